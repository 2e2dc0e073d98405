"""Test support: the real operator (the `genai-operator run` coroutine) against the emulated cluster.

`OperatorHarness` starts the emulator with the sample hybrid inventory, installs the generated CRDs,
runs `operator_main` on a thread of its own (as `kopf.testing.KopfRunner` does: Kopf cancels every
task created in its loop after it started, which must not include the test's), stoppable and
restartable as a pod would be, and offers the waiting and counting helpers the integration tests
need. User actions go over real HTTP through the `kubernetes` client, like kubectl would.
"""

from __future__ import annotations

import asyncio
import copy
import threading
import time
from collections.abc import Callable
from typing import Any

import yaml

from genai_emulator import EmulatedCluster
from genai_operator.api.crdgen import all_crds
from genai_operator.api.loading import read_documents
from genai_operator.api.resources import MODEL_DEPLOYMENTS
from genai_operator.controller.kopf_setup import operator_main
from genai_operator.controller.runtime import RunOptions
from genai_operator.kube.client import KubeClient
from genai_operator.kube.session import load_configuration
from support.paths import ROOT

MD = "genaiops.dev/v1alpha1/modeldeployments"
DEPLOYMENTS = "apps/v1/deployments"
INVENTORY = ROOT / "examples" / "inventory"


def example(name: str) -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load((ROOT / "examples" / name).read_text()))


class OperatorHarness:
    def __init__(
        self,
        *,
        with_keda: bool = False,
        with_prometheus_operator: bool = False,
        options: dict[str, Any] | None = None,
        pool_caches: bool = False,
        ready_delay: float = 0.0,
    ) -> None:
        # ready_delay: seconds from binding to a started pod, which the emulated kubelet reports as its cold start.
        self.cluster = EmulatedCluster(
            with_keda=with_keda, with_prometheus_operator=with_prometheus_operator, ready_delay=ready_delay
        )
        self.options = options or {}
        # The sample pools' model caches (a claim per model on cloud-l4, StatefulSets on edge-orin) add
        # children; scenarios about placement and write budgets leave them out unless they ask.
        self.pool_caches = pool_caches
        self.thread: threading.Thread | None = None
        self.stop_flag: threading.Event | None = None
        self.client: KubeClient | None = None

    async def __aenter__(self) -> OperatorHarness:
        await self.cluster.__aenter__()
        self.cluster.install_crds(list(all_crds().values()))
        self.cluster.add_nodes([doc for _, doc in read_documents(str(INVENTORY / "nodes.yaml"))])
        for _, doc in read_documents(str(INVENTORY / "pools.yaml")):
            if not self.pool_caches:
                doc["spec"].pop("cache", None)
            self.cluster.apply(doc)
        self.client = KubeClient(load_configuration(str(self.cluster.kubeconfig_path)))
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
        if self.client is not None:
            await self.client.close()
        await self.cluster.__aexit__(None, None, None)

    async def start(self) -> None:
        self.stop_flag = threading.Event()
        options = RunOptions(**{"kubeconfig": str(self.cluster.kubeconfig_path), "metrics_port": 0, **self.options})
        flag = self.stop_flag

        def run() -> None:
            asyncio.run(operator_main(options, stop_flag=flag))

        self.thread = threading.Thread(target=run, name="operator", daemon=True)
        self.thread.start()
        await asyncio.sleep(0.3)  # Kopf lists and indexes before the first handler runs

    async def stop(self) -> None:
        """A graceful stop (SIGTERM): in-flight reconciles are cancelled wherever they are."""
        if self.thread is None or self.stop_flag is None:
            return
        self.stop_flag.set()
        await asyncio.to_thread(self.thread.join, 15)
        assert not self.thread.is_alive(), "the operator did not stop within 15s"
        self.thread = None

    # -- user actions over HTTP -------------------------------------------------------------------
    async def create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        assert self.client is not None
        return await self.client.create(MODEL_DEPLOYMENTS, manifest)

    async def patch_spec(self, namespace: str, name: str, spec_patch: dict[str, Any]) -> dict[str, Any]:
        assert self.client is not None
        return await self.client.patch(MODEL_DEPLOYMENTS, namespace, name, {"spec": spec_patch})

    # -- observation ------------------------------------------------------------------------------
    def md(self, namespace: str, name: str) -> dict[str, Any]:
        obj = self.cluster.get(MD, namespace, name)
        assert obj is not None, f"{namespace}/{name} is gone"
        return obj

    def writes(self, *, exclude: tuple[str, ...] = ("events", "placementpools")) -> list[Any]:
        """The operator's writes for ModelDeployments (Events and PlacementPool status are other budgets)."""
        return [r for r in self.cluster.emulator.recorded_requests() if r.is_write and r.resource not in exclude]

    def clear_requests(self) -> None:
        self.cluster.emulator.clear_recorded_requests()


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond["type"] == type_:
            return dict(cond)
    return {}


def is_ready(obj: dict[str, Any]) -> bool:
    status = obj.get("status") or {}
    return condition(obj, "Ready").get("status") == "True" and status.get("observedGeneration") == obj["metadata"].get(
        "generation"
    )


async def eventually(check: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Poll until `check()` is truthy; fail with its last value (or exception) after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except AssertionError as exc:
            last = exc
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s; last: {last!r}")


async def quiet(harness: OperatorHarness, seconds: float = 1.0) -> list[Any]:
    """Writes made during `seconds` of doing nothing (a converged operator makes none)."""
    harness.clear_requests()
    await asyncio.sleep(seconds)
    return harness.writes()
