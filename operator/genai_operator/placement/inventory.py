"""Nodes as small projections (what placement needs, not whole bodies) and pool capacity from them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from genai_operator.placement.types import Pool, PoolCapacity
from genai_operator.quantity import to_bytes, to_millicores

GPU_RESOURCE_SUFFIX = "/gpu"


@dataclass(frozen=True)
class NodeView:
    """The part of a Node that placement reads; small enough to index thousands of nodes."""

    name: str
    labels: tuple[tuple[str, str], ...]
    taints: tuple[tuple[str, str, str], ...]  # (key, value, effect)
    gpus: tuple[tuple[str, int], ...]  # allocatable extended GPU resources: (resource name, count)
    gpus_capacity: tuple[tuple[str, int], ...]
    cpu_millis: int
    memory_bytes: int
    arch: str
    ready: bool
    schedulable: bool

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    def gpu_count(self, resource: str, *, capacity: bool = False) -> int:
        return dict(self.gpus_capacity if capacity else self.gpus).get(resource, 0)


def node_view(node: Mapping[str, Any]) -> NodeView:
    """Project a Node object (as `kubectl get node -o yaml` prints it) to a NodeView."""
    meta = node.get("metadata") or {}
    spec = node.get("spec") or {}
    status = node.get("status") or {}
    allocatable = status.get("allocatable") or {}
    capacity = status.get("capacity") or allocatable
    labels = meta.get("labels") or {}
    conditions = status.get("conditions") or []
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions) or not conditions
    arch = (status.get("nodeInfo") or {}).get("architecture") or labels.get("kubernetes.io/arch", "amd64")
    return NodeView(
        name=str(meta.get("name", "")),
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
        taints=tuple(
            (str(t.get("key", "")), str(t.get("value", "") or ""), str(t.get("effect", "")))
            for t in spec.get("taints") or []
        ),
        gpus=_gpu_resources(allocatable),
        gpus_capacity=_gpu_resources(capacity),
        cpu_millis=to_millicores(allocatable.get("cpu", 0)),
        memory_bytes=to_bytes(allocatable.get("memory", 0)),
        arch=str(arch),
        ready=ready,
        schedulable=not spec.get("unschedulable", False),
    )


def _gpu_resources(resources: Mapping[str, Any]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted((k, int(to_bytes(v))) for k, v in resources.items() if k.endswith(GPU_RESOURCE_SUFFIX)))


def tolerates(tolerations: Iterable[Mapping[str, Any]], taint: tuple[str, str, str]) -> bool:
    key, value, effect = taint
    if effect == "PreferNoSchedule":
        return True
    for tol in tolerations:
        if tol.get("effect") and tol.get("effect") != effect:
            continue
        if tol.get("operator") == "Exists" and (not tol.get("key") or tol.get("key") == key):
            return True
        if tol.get("key") == key and (tol.get("value") or "") == value:
            return True
    return False


def node_in_pool(node: NodeView, pool: Pool) -> bool:
    """Label selector match, and the pool's tolerations cover the node's hard taints."""
    labels = node.label_map
    if any(labels.get(k) != v for k, v in pool.node_selector):
        return False
    if pool.arch and node.arch != pool.arch:
        return False
    extra = () if pool.cpu_only else ({"key": pool.gpu_resource, "operator": "Exists"},)
    return all(tolerates((*pool.tolerations, *extra), taint) for taint in node.taints)


def pool_capacity(
    pool: Pool, nodes: Iterable[NodeView], requested_by_node: Mapping[str, int] | None = None
) -> PoolCapacity:
    """Capacity of the pool's usable nodes; `requested_by_node` holds GPUs already requested there."""
    requested_by_node = requested_by_node or {}
    members = [n for n in nodes if node_in_pool(n, pool) and n.ready and n.schedulable]
    resource = pool.gpu_resource
    free_per_node = [max(n.gpu_count(resource) - requested_by_node.get(n.name, 0), 0) for n in members]
    return PoolCapacity(
        nodes=len(members),
        gpus_total=sum(n.gpu_count(resource, capacity=True) for n in members),
        gpus_allocatable=sum(n.gpu_count(resource) for n in members),
        gpus_requested=sum(min(requested_by_node.get(n.name, 0), n.gpu_count(resource)) for n in members),
        max_gpus_per_node=max(free_per_node, default=0),
        max_memory_bytes_per_node=max((n.memory_bytes for n in members), default=0),
        max_cpu_millis_per_node=max((n.cpu_millis for n in members), default=0),
        free_gpus_per_node=tuple(sorted(free_per_node, reverse=True)),
    )


def replicas_that_fit(capacity: PoolCapacity, gpus_per_replica: int, bytes_per_replica: int) -> int:
    """How many more replicas the pool's free capacity takes; a replica never straddles nodes."""
    if gpus_per_replica > 0:
        return sum(free // gpus_per_replica for free in capacity.free_gpus_per_node)
    if bytes_per_replica <= 0 or capacity.max_memory_bytes_per_node < bytes_per_replica:
        return 0
    # CPU pools: memory is the binding constraint; assume nodes alike (the largest one as the bound).
    return capacity.nodes * (capacity.max_memory_bytes_per_node // bytes_per_replica)
