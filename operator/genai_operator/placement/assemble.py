"""The pool list the planner works with: manifests (or discovery), GPU detection and capacity from nodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from genai_operator.api.placementpool import PlacementPool
from genai_operator.placement.inventory import NodeView, pool_capacity
from genai_operator.placement.pools import discover_pools, pool_from_manifest, with_detected_gpu
from genai_operator.placement.types import Pool, PoolCapacity


def build_pools(
    manifests: Sequence[PlacementPool],
    nodes: Sequence[NodeView] | None,
    requested_by_node: Mapping[str, int] | None = None,
) -> list[Pool] | None:
    """Pools with capacity; None when there is no inventory at all (offline: the single default pool).

    PlacementPool manifests win; without any, pools are discovered from node labels. Without nodes,
    manifest pools have unknown capacity (placement assumes they fit).
    """
    if not manifests and not nodes:
        return None
    pools = [pool_from_manifest(m) for m in manifests] if manifests else discover_pools(nodes or [])
    if nodes is None:
        return pools
    out = []
    for pool in pools:
        pool = with_detected_gpu(pool, nodes)
        out.append(replace(pool, capacity=pool_capacity(pool, nodes, requested_by_node)))
    return out


def consume(pool: Pool, gpus_per_replica: int, replicas: int) -> Pool:
    """The pool after `replicas` more replicas took their GPUs (used to plan many models in turn)."""
    cap = pool.capacity
    if cap is None or gpus_per_replica <= 0 or replicas <= 0:
        return pool
    free = list(cap.free_gpus_per_node)
    left = replicas
    # Best fit: fill the node with the least room that still takes a replica, keeping big nodes whole.
    while left > 0:
        fitting = [i for i, f in enumerate(free) if f >= gpus_per_replica]
        if not fitting:
            break
        index = min(fitting, key=lambda i: free[i])
        free[index] -= gpus_per_replica
        left -= 1
    used = (replicas - left) * gpus_per_replica
    new_cap = PoolCapacity(
        nodes=cap.nodes,
        gpus_total=cap.gpus_total,
        gpus_allocatable=cap.gpus_allocatable,
        gpus_requested=cap.gpus_requested + used,
        max_gpus_per_node=max(free, default=0),
        max_memory_bytes_per_node=cap.max_memory_bytes_per_node,
        max_cpu_millis_per_node=cap.max_cpu_millis_per_node,
        free_gpus_per_node=tuple(sorted(free, reverse=True)),
    )
    return replace(pool, capacity=new_cap)
