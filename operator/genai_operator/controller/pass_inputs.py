"""What a reconcile pass reads: a ModelDeployment, its children, its pods, the pools with their free capacity.

Everything comes from indexes kept current by watches (Kopf's, and ours in informers.py), so reading costs
no API call. Tests fill plain indexes (indexes.py) to give a pass its inputs without a cluster.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from typing import Any

from genai_operator.api.resources import CHILD_RESOURCES
from genai_operator.controller.informers import GPU_PODS_INDEX, OWN_PODS_INDEX, GpuPod, OwnPod, child_index_name
from genai_operator.formats.timestamps import to_epoch
from genai_operator.placement.types import Pool
from genai_operator.planning.capacity import ClusterCapacity
from genai_operator.planning.hysteresis import PoolHealth
from genai_operator.reconcile.children import controlled_by
from genai_operator.reconcile.diff import ChildKey
from genai_operator.status.cold_start import PodStart
from genai_operator.status.model_loaded import LoaderState

Key = tuple[str, str]  # (namespace, name) of a ModelDeployment
POOLS_KEY: Key = ("", "placementpools")  # the queue key of the PlacementPool status pass
MD_INDEX, NODES_INDEX, POOLS_INDEX = "md_index", "nodes_index", "pools_index"


def first(store: Collection[Any] | None) -> Any | None:
    """The one value an object files under a key (its body), None when nothing is filed."""
    for value in store or ():
        return value
    return None


class PassInputs:
    """The indexes as a pass reads them, and the pools' capacity kept current from the GPU pods index."""

    def __init__(self, indices: Mapping[str, Any]) -> None:
        self.indices = indices
        self.capacity = ClusterCapacity()

    def model_deployment(self, key: Key) -> dict[str, Any] | None:
        body: dict[str, Any] | None = first(self.indices[MD_INDEX].get(key))
        return body

    def model_deployment_keys(self) -> list[Key]:
        return list(self.indices[MD_INDEX])

    def pool_manifests(self) -> list[Mapping[str, Any]]:
        return list(self.indices[POOLS_INDEX].get(None) or ())

    def children(self, key: Key, uid: str) -> dict[ChildKey, dict[str, Any]]:
        """Owned children only: a same-named object without our owner reference is never touched."""
        out: dict[ChildKey, dict[str, Any]] = {}
        names = (child_index_name(res) for res in CHILD_RESOURCES)
        stores = (self.indices[name].get(key) or () for name in names if name in self.indices)
        for obj in (o for store in stores for o in store):
            if controlled_by(obj, uid):
                out[(obj["kind"], obj["metadata"]["name"])] = obj
        return out

    def _own_pods(self, key: Key) -> Collection[OwnPod]:
        pods: Collection[OwnPod] = self.indices[OWN_PODS_INDEX].get(key) or ()
        return pods

    def pool_health(self, key: Key) -> dict[str, PoolHealth]:
        """Our replicas per pool: scheduled, and how long the unschedulable ones have waited."""
        now = time.time()
        counts: dict[str, list[float]] = {}
        health: dict[str, PoolHealth] = {}
        for pod in self._own_pods(key):
            pool, since = pod.pool, pod.unschedulable_since
            seen = health.get(pool, PoolHealth())
            if pod.scheduled:
                health[pool] = PoolHealth(seen.scheduled + 1, seen.unschedulable, seen.unschedulable_seconds)
            elif since:
                counts.setdefault(pool, []).append(now - (to_epoch(since) or now))
                health[pool] = PoolHealth(seen.scheduled, seen.unschedulable + 1, max(counts[pool]))
        return health

    def own_pods(self, key: Key) -> list[OwnPod]:
        """Our live inference pods (warm standby reads their names and readiness)."""
        return list(self._own_pods(key))

    def loader_states(self, key: Key) -> list[LoaderState | None]:
        return [pod.loader for pod in self._own_pods(key)]

    def pod_starts(self, key: Key) -> list[PodStart]:
        return [pod.start for pod in self._own_pods(key) if pod.start is not None]

    def pools(self, key: Key) -> list[Pool] | None:
        """The pools with their free capacity as this ModelDeployment must see them (its own pods' GPUs
        given back)."""
        gpu_pods: Mapping[str, Collection[GpuPod]] = self.indices[GPU_PODS_INDEX]
        return self.capacity.pools(
            key,
            tuple(self.indices[NODES_INDEX].get(None) or ()),
            tuple(self.indices[POOLS_INDEX].get(None) or ()),
            lambda: iter(gpu_pods),
            lambda node: gpu_pods.get(node) or (),
        )

    def gpus_requested(self) -> dict[str, int]:
        """GPUs requested by bound, live pods, per node (for capacity snapshots)."""
        self.pools(POOLS_KEY)
        return dict(self.capacity.usage.requested)
