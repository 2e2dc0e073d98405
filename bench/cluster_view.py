"""The benchmark's clusters and what it reads of them: readiness of objects, and the API requests made.

`EmulatedBenchCluster` is the emulated cluster served from the bench process; its reads go straight to the
emulator's store (no copies, no HTTP), so polling 500 objects every 100 ms costs the emulator's event loop next
to nothing. real_cluster.RealBenchCluster answers the same questions on the real control plane. The functions
below take either.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from genai_emulator import EmulatedCluster, RequestRecord
from genai_operator.api.crdgen import all_crds

MD = "genaiops.dev/v1alpha1/modeldeployments"
DEPLOYMENTS = "apps/v1/deployments"
# What the operator watches before it can reconcile anything.
OPERATOR_WATCHES = frozenset({"modeldeployments", "deployments", "services", "pods", "nodes", "placementpools"})


class Record(Protocol):
    verb: str
    resource: str
    subresource: str | None
    namespace: str | None

    @property
    def is_write(self) -> bool: ...


class BenchCluster(Protocol):
    """What a benchmark phase needs of its cluster, emulated or real."""

    name: str
    kubeconfig_path: Path  # the operator's
    floor_kubeconfig_path: Path

    async def __aenter__(self) -> BenchCluster: ...
    async def __aexit__(self, *exc: object) -> None: ...
    def install(self, nodes: list[dict[str, Any]], pools: list[dict[str, Any]]) -> None: ...
    def prepare(self, manifests: Iterable[dict[str, Any]]) -> None: ...
    def create_all(self, manifests: Iterable[dict[str, Any]]) -> None: ...
    def ready_model_deployments(self) -> int: ...
    def ready_deployments(self) -> int: ...
    def watching(self, resources: frozenset[str]) -> bool: ...
    def clear_requests(self) -> None: ...
    def requests(self) -> Sequence[Record]: ...
    def backend_cpu(self) -> dict[str, float]: ...


class EmulatedBenchCluster:
    name = "emulated"

    def __init__(self) -> None:
        self.cluster = EmulatedCluster()

    async def __aenter__(self) -> EmulatedBenchCluster:
        await self.cluster.__aenter__()
        self.kubeconfig_path = self.floor_kubeconfig_path = self.cluster.kubeconfig_path
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.cluster.__aexit__(None, None, None)

    def install(self, nodes: list[dict[str, Any]], pools: list[dict[str, Any]]) -> None:
        self.cluster.install_crds(list(all_crds().values()))
        self.cluster.add_nodes(nodes)
        for pool in pools:
            self.cluster.apply(pool)

    def prepare(self, manifests: Iterable[dict[str, Any]]) -> None:
        """Nothing: the emulator takes objects in any namespace."""

    def create_all(self, manifests: Iterable[dict[str, Any]]) -> None:
        """Create in-process (what `kubectl apply -f dir/` does, minus the HTTP round trips)."""
        for manifest in manifests:
            self.cluster.apply(manifest)

    def _items(self, resource: str) -> Iterable[dict[str, Any]]:
        emulator = self.cluster.emulator
        return emulator.store.items(emulator.registry.resolve(resource))

    def ready_model_deployments(self) -> int:
        """ModelDeployments whose status says Ready=True for their current generation."""
        count = 0
        for obj in self._items(MD):
            status = obj.get("status") or {}
            if status.get("observedGeneration") != obj["metadata"].get("generation"):
                continue
            if any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []):
                count += 1
        return count

    def ready_deployments(self) -> int:
        """Deployments the simulated deployment controller reports fully rolled out and ready."""
        count = 0
        for obj in self._items(DEPLOYMENTS):
            status = obj.get("status") or {}
            wanted = int((obj.get("spec") or {}).get("replicas", 1))
            if (
                status.get("observedGeneration") == obj["metadata"].get("generation")
                and int(status.get("readyReplicas") or 0) >= wanted
            ):
                count += 1
        return count

    def watching(self, resources: frozenset[str]) -> bool:
        return {r.resource for r in self.cluster.emulator.recorded_requests(verb="watch")} >= resources

    def clear_requests(self) -> None:
        self.cluster.emulator.clear_recorded_requests()

    def requests(self) -> list[RequestRecord]:
        return self.cluster.emulator.recorded_requests()

    def backend_cpu(self) -> dict[str, float]:
        return {"emulator": time.process_time()}  # the emulator is served from this process


def watching(cluster: BenchCluster) -> bool:
    return cluster.watching(OPERATOR_WATCHES)


def writes(cluster: BenchCluster) -> list[Record]:
    """Successful or not, every write except Kubernetes Events (reported on their own)."""
    return [r for r in cluster.requests() if r.is_write and r.resource != "events"]


def events_posted(cluster: BenchCluster) -> int:
    return sum(1 for r in cluster.requests() if r.verb == "create" and r.resource == "events")


def by_verb(records: Iterable[Record]) -> Counter[str]:
    """`create deployments`, `patch modeldeployments/status`, `list pods`... for the JSON report."""
    out: Counter[str] = Counter()
    for r in records:
        out[f"{r.verb} {r.resource}{'/' + r.subresource if r.subresource else ''}"] += 1
    return out


async def until(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> float:
    """Poll `check` on the emulator's loop until truthy; the monotonic time it first was. Raises on timeout."""
    deadline = time.perf_counter() + timeout
    while True:
        if check():
            return time.perf_counter()
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f}s")
        await asyncio.sleep(interval)


async def settle(cluster: BenchCluster, quiet: float = 1.0, limit: float = 15.0) -> None:
    """Wait until no write (other than Events) happened for `quiet` seconds, at most `limit` seconds."""
    deadline = time.perf_counter() + limit
    count, since = len(writes(cluster)), time.perf_counter()
    while time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
        now = len(writes(cluster))
        if now != count:
            count, since = now, time.perf_counter()
        elif time.perf_counter() - since >= quiet:
            return
