"""`EmulatedCluster`: the emulator served over real HTTP, with a kubeconfig pointing at it."""

from __future__ import annotations

import builtins
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import aiohttp.web

from genai_emulator.emulator import ClusterEmulator
from genai_emulator.faults import FaultRule
from genai_emulator.init_containers import InitRule
from genai_emulator.kubeconfig import write_kubeconfig
from genai_emulator.resources import GENAI_GROUP
from genai_emulator.routing import RequestRecord

if TYPE_CHECKING:
    from genai_emulator.threaded import ThreadedCluster

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "genai-emulator-token"


class EmulatedCluster:
    """Async context manager: `async with EmulatedCluster(nodes=...) as cluster: ...`.

    The emulator is built inside the running loop, because its asyncio primitives and the
    simulated controllers belong to that loop.
    """

    def __init__(
        self,
        *,
        nodes: Iterable[Mapping[str, Any]] = (),
        crds: Iterable[str | os.PathLike[str] | Mapping[str, Any]] = (),
        with_keda: bool = False,
        with_prometheus_operator: bool = False,
        simulate_workloads: bool = True,
        ready_delay: float = 0.0,
        strict_namespaces: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = DEFAULT_TOKEN,
        workdir: str | os.PathLike[str] | None = None,
        emulator_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._nodes = builtins.list(nodes)
        self._crds = builtins.list(crds)
        self._options: dict[str, Any] = {
            "with_keda": with_keda,
            "with_prometheus_operator": with_prometheus_operator,
            "simulate_workloads": simulate_workloads,
            "ready_delay": ready_delay,
            "strict_namespaces": strict_namespaces,
            **(emulator_options or {}),  # e.g. event_capacity, history_limit (see ClusterEmulator)
        }
        self._host, self._port = host, port
        self.token = token
        self._workdir = Path(workdir) if workdir is not None else None
        self._tempdir: Path | None = None
        self._runner: aiohttp.web.ServerRunner | None = None
        self._emulator: ClusterEmulator | None = None
        self._url: str | None = None
        self._kubeconfig: Path | None = None

    @classmethod
    def in_thread(cls, **kwargs: Any) -> ThreadedCluster:
        """The same cluster, run on a daemon thread for synchronous code."""
        from genai_emulator.threaded import ThreadedCluster

        return ThreadedCluster(**kwargs)

    @property
    def emulator(self) -> ClusterEmulator:
        if self._emulator is None:
            raise RuntimeError("The cluster is not running.")
        return self._emulator

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("The cluster is not running.")
        return self._url

    @property
    def kubeconfig_path(self) -> Path:
        if self._kubeconfig is None:
            raise RuntimeError("The cluster is not running.")
        return self._kubeconfig

    async def __aenter__(self) -> EmulatedCluster:
        emulator = ClusterEmulator(**self._options)
        await emulator.__aenter__()
        self._emulator = emulator
        try:
            if self._crds:
                emulator.install_crds(self._crds)
            if self._nodes:
                emulator.add_nodes(self._nodes)
            # handler_cancellation: a client that hangs up ends its watch handler at once.
            server = aiohttp.web.Server(emulator, handler_cancellation=True, access_log=None)
            self._runner = aiohttp.web.ServerRunner(server, shutdown_timeout=1.0)
            await self._runner.setup()
            site = aiohttp.web.TCPSite(self._runner, self._host, self._port)
            await site.start()
            host, port = self._runner.addresses[0][:2]
            self._url = f"http://{host}:{port}"
            directory = self._workdir or Path(tempfile.mkdtemp(prefix="genai-emulator-"))
            self._tempdir = directory if self._workdir is None else None
            directory.mkdir(parents=True, exist_ok=True)
            self._kubeconfig = write_kubeconfig(directory / "kubeconfig", self._url, self.token)
            logger.info("Emulated cluster serving at %s (kubeconfig %s)", self._url, self._kubeconfig)
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._emulator is not None:
            self._emulator.drop_watches()  # let the streaming handlers finish before shutdown
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._emulator is not None:
            await self._emulator.__aexit__(exc_type, exc, tb)
            self._emulator = None
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None
        self._url = None

    # -- direct object access (in-process, no HTTP) -------------------------------------------

    def apply(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        return self.emulator.apply(obj)

    def get(self, resource: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        return self.emulator.get_object(resource, namespace, name)

    def list(
        self, resource: str, namespace: str | None = None, label_selector: str | None = None
    ) -> builtins.list[dict[str, Any]]:
        return self.emulator.list_objects(resource, namespace, label_selector)

    def delete(self, resource: str, namespace: str | None, name: str, *, propagation: str | None = None) -> None:
        self.emulator.delete_object(resource, namespace, name, propagation=propagation)

    def add_nodes(self, nodes: Iterable[Mapping[str, Any]]) -> builtins.list[dict[str, Any]]:
        return self.emulator.add_nodes(nodes)

    def install_crds(
        self, sources: Iterable[str | os.PathLike[str] | Mapping[str, Any]]
    ) -> builtins.list[dict[str, Any]]:
        return self.emulator.install_crds(sources)

    def owned_objects(self, owner_group: str | None = GENAI_GROUP) -> builtins.list[dict[str, Any]]:
        return self.emulator.owned_objects(owner_group)

    def children_summary(self, owner_group: str | None = GENAI_GROUP) -> dict[str, builtins.list[str]]:
        return self.emulator.children_summary(owner_group)

    def fail_next(self, count: int, status: int, **criteria: Any) -> FaultRule:
        """See :meth:`ClusterEmulator.fail_next` (criteria: method, resource, namespace, name)."""
        return self.emulator.fail_next(count, status, **criteria)

    def drop_watches(self) -> None:
        self.emulator.drop_watches()

    def fail_init_container(self, namespace: str | None, match: str = "", **options: Any) -> InitRule:
        """See :meth:`ClusterEmulator.fail_init_container` (options: container, exit_code, reason, message)."""
        return self.emulator.fail_init_container(namespace, match, **options)

    def hold_init_containers(self, namespace: str | None, match: str = "", *, container: str | None = None) -> InitRule:
        return self.emulator.hold_init_containers(namespace, match, container=container)

    def clear_init_failures(self) -> None:
        self.emulator.clear_init_failures()

    def release_init_containers(self) -> None:
        self.emulator.release_init_containers()

    def recorded_requests(self, **criteria: Any) -> builtins.list[RequestRecord]:
        """See :meth:`ClusterEmulator.recorded_requests` (verb, resource, namespace, name, subresource)."""
        return self.emulator.recorded_requests(**criteria)
