"""Nodes as small projections (what placement needs, not whole bodies) and pool capacity from them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from genai_operator.formats.quantity import to_bytes, to_millicores
from genai_operator.placement.types import Pool, PoolCapacity
from genai_operator.sizing.mig_catalog import MIG_RESOURCE_PREFIX
from genai_operator.sizing.overhead import cpu_budget_bytes

GPU_RESOURCE_SUFFIX = "/gpu"
NVIDIA_GPU = "nvidia.com/gpu"
# GPU Feature Discovery labels of a GPU shared by time-slicing or MPS: the product gets a `-SHARED`
# suffix and the node advertises `replicas` schedulable slices per physical GPU.
GFD_PRODUCT = "nvidia.com/gpu.product"
GFD_COUNT = "nvidia.com/gpu.count"
GFD_REPLICAS = "nvidia.com/gpu.replicas"
GFD_SHARING = "nvidia.com/gpu.sharing-strategy"
SHARED_SUFFIX = "-shared"


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
    gpu_share: int = 1  # schedulable nvidia.com/gpu slices per physical GPU (time-slicing / MPS)

    @cached_property
    def label_map(self) -> dict[str, str]:
        # Cached: pool selection reads the labels of every node for every pool.
        return dict(self.labels)

    def gpu_count(self, resource: str, *, capacity: bool = False) -> int:
        return dict(self.gpus_capacity if capacity else self.gpus).get(resource, 0)

    def whole_gpus(self, resource: str, *, capacity: bool = False) -> int:
        """Physical GPUs: a model replica needs a GPU's whole memory, and time-sliced slices share it."""
        count = self.gpu_count(resource, capacity=capacity)
        return count // self.gpu_share if resource == NVIDIA_GPU else count


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
    # The label first: pods are pinned with a nodeSelector on it, which the scheduler matches against labels.
    arch = labels.get("kubernetes.io/arch") or (status.get("nodeInfo") or {}).get("architecture") or "amd64"
    gpus = _gpu_resources(allocatable)
    return NodeView(
        name=str(meta.get("name", "")),
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
        taints=tuple(
            (str(t.get("key", "")), str(t.get("value", "") or ""), str(t.get("effect", "")))
            for t in spec.get("taints") or []
        ),
        gpus=gpus,
        gpus_capacity=_gpu_resources(capacity),
        cpu_millis=to_millicores(allocatable.get("cpu", 0)),
        memory_bytes=to_bytes(allocatable.get("memory", 0)),
        arch=str(arch),
        ready=ready,
        schedulable=not spec.get("unschedulable", False),
        gpu_share=_gpu_share(labels, dict(gpus).get(NVIDIA_GPU, 0)),
    )


def _gpu_resources(resources: Mapping[str, Any]) -> tuple[tuple[str, int], ...]:
    return tuple(
        sorted(
            (k, int(to_bytes(v)))
            for k, v in resources.items()
            if k.endswith(GPU_RESOURCE_SUFFIX) or k.startswith(MIG_RESOURCE_PREFIX)
        )
    )


def pool_gpus(node: NodeView, pool: Pool, *, capacity: bool = False) -> int:
    """What one node gives the pool: whole GPUs, or on a MIG slice pool the slices of its profiles (under
    DRA the count labels GPU Feature Discovery writes, since no extended resource counts them)."""
    slices = pool.slices
    if slices is None:
        return node.whole_gpus(pool.gpu_resource, capacity=capacity)
    if slices.device_class:
        labels = node.label_map
        counts = (labels.get(f"{MIG_RESOURCE_PREFIX}{p.name}.count", "") for p in slices.profiles)
        return sum(int(c) for c in counts if c.isdigit())
    return sum(node.gpu_count(resource, capacity=capacity) for resource in slices.resources)


def _gpu_share(labels: Mapping[str, Any], allocatable: int) -> int:
    """Slices per GPU when GFD says the GPU is shared; 1 otherwise (or when the labels disagree)."""
    product = str(labels.get(GFD_PRODUCT, "")).lower()
    strategy = str(labels.get(GFD_SHARING, "none")).lower()
    if not product.endswith(SHARED_SUFFIX) and strategy in ("", "none"):
        return 1
    replicas = str(labels.get(GFD_REPLICAS, ""))
    if replicas.isdigit() and int(replicas) > 0:
        return int(replicas)
    count = str(labels.get(GFD_COUNT, ""))
    if count.isdigit() and int(count) > 0 and allocatable % int(count) == 0:
        return max(allocatable // int(count), 1)
    return 1


def tolerates(tolerations: Iterable[Mapping[str, Any]], taint: tuple[str, str, str]) -> bool:
    """Kubernetes' toleration match; PreferNoSchedule never keeps a pod off a node."""
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
    return _reachable(node, pool)


def _reachable(node: NodeView, pool: Pool) -> bool:
    if pool.arch and node.arch != pool.arch:
        return False
    if not node.taints:
        return True
    # Pods of GPU pools carry the device plugin's usual toleration of the GPU resource taint.
    extra = () if pool.cpu_only else ({"key": pool.gpu_resource, "operator": "Exists"},)
    # A pool whose GPUs are still to be detected tolerates any GPU resource taint, or it could never see them.
    return all(
        tolerates((*pool.tolerations, *extra), taint)
        or (pool.gpu_from_nodes and taint[0].endswith(GPU_RESOURCE_SUFFIX))
        for taint in node.taints
    )


class NodeIndex:
    """Nodes by label value, so each pool's selector scans only the nodes that carry its rarest label.

    Without it, assembling P pools over N nodes reads every node for every pool (P x N); with it the
    work is about N per selector key plus the size of each pool.
    """

    def __init__(self, nodes: Iterable[NodeView]) -> None:
        self.nodes: tuple[NodeView, ...] = tuple(nodes)
        self._by_key: dict[str, dict[str, list[NodeView]]] = {}

    def _postings(self, key: str) -> dict[str, list[NodeView]]:
        postings = self._by_key.get(key)
        if postings is None:
            postings = {}
            for node in self.nodes:
                value = node.label_map.get(key)
                if value is not None:
                    postings.setdefault(value, []).append(node)
            self._by_key[key] = postings
        return postings

    def selected(self, selector: Sequence[tuple[str, str]]) -> list[NodeView]:
        """Nodes whose labels match every (key, value) of the selector, in inventory order."""
        if not selector:
            return list(self.nodes)
        smallest = min((self._postings(k).get(v, []) for k, v in selector), key=len)
        return [n for n in smallest if all(n.label_map.get(k) == v for k, v in selector)]

    def members(self, pool: Pool) -> list[NodeView]:
        """The nodes a pod of the pool can land on (ready or not): selector, architecture, taints."""
        return [n for n in self.selected(pool.node_selector) if _reachable(n, pool)]


def pool_capacity(
    pool: Pool, nodes: Iterable[NodeView], requested_by_node: Mapping[str, int] | None = None
) -> PoolCapacity:
    """Capacity of the pool's usable nodes; `requested_by_node` holds GPUs already requested there."""
    return capacity_of_members(pool, [n for n in nodes if node_in_pool(n, pool)], requested_by_node)


def capacity_of_members(
    pool: Pool, members: Iterable[NodeView], requested_by_node: Mapping[str, int] | None = None
) -> PoolCapacity:
    """Capacity from nodes already known to belong to the pool; unready and cordoned ones count for nothing.

    GPUs are whole GPUs (time-sliced slices share one GPU's memory). On a shared node, requested slices
    are counted as whole GPUs up to the node's count, since nothing says they sit on the same GPU.
    CPU pools track the memory a llama.cpp replica may take per node (the sizing layer's budget).
    """
    requested_by_node = requested_by_node or {}
    usable = [n for n in members if n.ready and n.schedulable]
    whole = [pool_gpus(n, pool) for n in usable]
    requested = [min(requested_by_node.get(n.name, 0), w) for n, w in zip(usable, whole, strict=True)]
    free_per_node = [w - r for w, r in zip(whole, requested, strict=True)]
    free_memory = [cpu_budget_bytes(n.memory_bytes) for n in usable] if pool.cpu_only else []
    return PoolCapacity(
        nodes=len(usable),
        gpus_total=sum(pool_gpus(n, pool, capacity=True) for n in usable),
        gpus_allocatable=sum(whole),
        gpus_requested=sum(requested),
        max_gpus_per_node=max(free_per_node, default=0),
        gpus_per_node=max(whole, default=0),
        max_memory_bytes_per_node=max((n.memory_bytes for n in usable), default=0),
        max_cpu_millis_per_node=max((n.cpu_millis for n in usable), default=0),
        free_gpus_per_node=tuple(sorted(free_per_node, reverse=True)),
        free_memory_bytes_per_node=tuple(sorted(free_memory, reverse=True)),
    )


def replicas_that_fit(capacity: PoolCapacity, gpus_per_replica: int, bytes_per_replica: int, nodes: int = 1) -> int:
    """How many more replicas the pool's free capacity takes; a replica never straddles nodes, except a
    group of `nodes` nodes (sizing/multinode.py), which takes `gpus_per_replica` GPUs on each of them."""
    if nodes > 1:
        return sum(1 for free in capacity.free_gpus_per_node if free >= gpus_per_replica) // nodes
    if gpus_per_replica == 1:
        return sum(capacity.free_gpus_per_node)  # the common case, summed in C: planning asks per pool per model
    if gpus_per_replica > 1:
        return sum(free // gpus_per_replica for free in capacity.free_gpus_per_node)
    if bytes_per_replica <= 0:
        return 0
    if capacity.free_memory_bytes_per_node:
        return sum(free // bytes_per_replica for free in capacity.free_memory_bytes_per_node)
    if capacity.max_memory_bytes_per_node < bytes_per_replica:
        return 0
    # CPU pools without per-node figures: assume nodes alike (the largest one as the bound).
    return capacity.nodes * (capacity.max_memory_bytes_per_node // bytes_per_replica)
