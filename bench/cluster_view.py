"""Reading the emulated cluster from the bench process: readiness of objects, and the API requests made.

Reads go straight to the emulator's store (no copies, no HTTP), so polling 500 objects every 100 ms costs
the emulator's event loop next to nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from genai_operator.api.crdgen import all_crds
from genai_operator.emulator import EmulatedCluster, RequestRecord

MD = "genaiops.dev/v1alpha1/modeldeployments"
DEPLOYMENTS = "apps/v1/deployments"
# What the operator watches before it can reconcile anything.
OPERATOR_WATCHES = frozenset({"modeldeployments", "deployments", "services", "pods", "nodes", "placementpools"})


def install(cluster: EmulatedCluster, nodes: list[dict[str, Any]], pools: list[dict[str, Any]]) -> None:
    cluster.install_crds(list(all_crds().values()))
    cluster.add_nodes(nodes)
    for pool in pools:
        cluster.apply(pool)


def create_all(cluster: EmulatedCluster, manifests: Iterable[dict[str, Any]]) -> None:
    """Create in-process (what `kubectl apply -f dir/` does, minus the HTTP round trips)."""
    for manifest in manifests:
        cluster.apply(manifest)


def _items(cluster: EmulatedCluster, resource: str) -> Iterable[dict[str, Any]]:
    emulator = cluster.emulator
    return emulator.store.items(emulator.registry.resolve(resource))


def ready_model_deployments(cluster: EmulatedCluster) -> int:
    """ModelDeployments whose status says Ready=True for their current generation."""
    count = 0
    for obj in _items(cluster, MD):
        status = obj.get("status") or {}
        if status.get("observedGeneration") != obj["metadata"].get("generation"):
            continue
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []):
            count += 1
    return count


def ready_deployments(cluster: EmulatedCluster) -> int:
    """Deployments the simulated deployment controller reports fully rolled out and ready."""
    count = 0
    for obj in _items(cluster, DEPLOYMENTS):
        status = obj.get("status") or {}
        wanted = int((obj.get("spec") or {}).get("replicas", 1))
        if status.get("observedGeneration") == obj["metadata"].get("generation") and \
                int(status.get("readyReplicas") or 0) >= wanted:
            count += 1
    return count


def watching(cluster: EmulatedCluster) -> bool:
    seen = {r.resource for r in cluster.emulator.recorded_requests(verb="watch")}
    return seen >= OPERATOR_WATCHES


def writes(cluster: EmulatedCluster) -> list[RequestRecord]:
    """Successful or not, every write except Kubernetes Events (reported on their own)."""
    return [r for r in cluster.emulator.recorded_requests() if r.is_write and r.resource != "events"]


def events_posted(cluster: EmulatedCluster) -> int:
    return len(cluster.emulator.recorded_requests(verb="create", resource="events"))


def by_verb(records: Iterable[RequestRecord]) -> Counter[str]:
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


async def settle(cluster: EmulatedCluster, quiet: float = 1.0, limit: float = 15.0) -> None:
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
