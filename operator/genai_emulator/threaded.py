"""`ThreadedCluster`: an EmulatedCluster on its own event loop, for synchronous callers.

Every helper hops onto the emulator's loop (the store is single-threaded by design) and
waits for the result, so sync tests and CLI code can use it like a local object.
"""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import os
import threading
from collections.abc import Callable, Coroutine, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from genai_emulator.cluster import EmulatedCluster
from genai_emulator.emulator import ClusterEmulator
from genai_emulator.faults import FaultRule
from genai_emulator.init_containers import InitRule
from genai_emulator.resources import GENAI_GROUP
from genai_emulator.routing import RequestRecord

T = TypeVar("T")


class ThreadedCluster:
    def __init__(self, *, startup_timeout: float = 30.0, **options: Any) -> None:
        self._options = options
        self._startup_timeout = startup_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._cluster: EmulatedCluster | None = None
        self._stopping: asyncio.Event | None = None
        self._started = concurrent.futures.Future[EmulatedCluster]()

    def __enter__(self) -> ThreadedCluster:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> ThreadedCluster:
        if self._thread is not None:
            raise RuntimeError("The cluster is already started.")
        self._thread = threading.Thread(target=self._main, name="genai-emulator", daemon=True)
        self._thread.start()
        self._cluster = self._started.result(timeout=self._startup_timeout)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._stopping is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # surface startup failures in start(), not only in the thread
            if not self._started.done():
                self._started.set_exception(exc)

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        async with EmulatedCluster(**self._options) as cluster:
            self._started.set_result(cluster)
            await self._stopping.wait()

    # -- running things on the emulator's loop ------------------------------------------------

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a synchronous callable on the emulator's loop and return its result."""

        async def invoke() -> T:
            return fn(*args, **kwargs)

        return self.run(invoke())

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 30.0) -> T:
        if self._loop is None:
            coro.close()
            raise RuntimeError("The cluster is not running.")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @property
    def cluster(self) -> EmulatedCluster:
        if self._cluster is None:
            raise RuntimeError("The cluster is not running.")
        return self._cluster

    @property
    def emulator(self) -> ClusterEmulator:
        """Read freely; mutate only through :meth:`call` (the loop thread owns the store)."""
        return self.cluster.emulator

    @property
    def url(self) -> str:
        return self.cluster.url

    @property
    def kubeconfig_path(self) -> Path:
        return self.cluster.kubeconfig_path

    def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        return self.call(self.cluster.apply, obj)

    def get(self, resource: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self.call(self.cluster.get, resource, namespace, name)

    def list(
        self, resource: str, namespace: str | None = None, label_selector: str | None = None
    ) -> builtins.list[dict[str, Any]]:
        return self.call(self.cluster.list, resource, namespace, label_selector)

    def delete(self, resource: str, namespace: str | None, name: str, *, propagation: str | None = None) -> None:
        self.call(self.cluster.delete, resource, namespace, name, propagation=propagation)

    def add_nodes(self, nodes: Iterable[Mapping[str, Any]]) -> builtins.list[dict[str, Any]]:
        return self.call(self.cluster.add_nodes, builtins.list(nodes))

    def install_crds(
        self, sources: Iterable[str | os.PathLike[str] | Mapping[str, Any]]
    ) -> builtins.list[dict[str, Any]]:
        return self.call(self.cluster.install_crds, builtins.list(sources))

    def owned_objects(self, owner_group: str | None = GENAI_GROUP) -> builtins.list[dict[str, Any]]:
        return self.call(self.cluster.owned_objects, owner_group)

    def children_summary(self, owner_group: str | None = GENAI_GROUP) -> dict[str, builtins.list[str]]:
        return self.call(self.cluster.children_summary, owner_group)

    def fail_next(self, count: int, status: int, **criteria: Any) -> FaultRule:
        return self.call(self.emulator.fail_next, count, status, **criteria)

    def drop_watches(self) -> None:
        self.call(self.emulator.drop_watches)

    def fail_init_container(self, namespace: str | None, match: str = "", **options: Any) -> InitRule:
        return self.call(self.emulator.fail_init_container, namespace, match, **options)

    def hold_init_containers(self, namespace: str | None, match: str = "", *, container: str | None = None) -> InitRule:
        return self.call(self.emulator.hold_init_containers, namespace, match, container=container)

    def clear_init_failures(self) -> None:
        self.call(self.emulator.clear_init_failures)

    def release_init_containers(self) -> None:
        self.call(self.emulator.release_init_containers)

    def recorded_requests(self, **criteria: Any) -> builtins.list[RequestRecord]:
        return self.call(self.emulator.recorded_requests, **criteria)
