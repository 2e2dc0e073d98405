"""The status of each PlacementPool: its nodes and GPUs as last observed (pure; `now` is passed in)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from genai_operator.placement.types import Pool
from genai_operator.status.conditions import condition, merge_conditions


def pool_status(pool: Pool, generation: int | None, previous: Mapping[str, Any] | None, now: str) -> dict[str, Any]:
    cap = pool.capacity
    nodes = cap.nodes if cap else 0
    if nodes:
        ready = condition("Ready", True, "NodesFound", f"{nodes} node(s) match the pool's node selector")
    elif pool.autoscaled:
        ready = condition("Ready", True, "CapacityPending", "no node yet; the node autoscaler adds them on demand")
    else:
        ready = condition(
            "Ready",
            False,
            "NoNodes",
            "no ready, schedulable node matches spec.nodeSelector and tolerations; check the node labels and taints",
        )
    conditions = [ready]
    if pool.gpu_from_nodes and not pool.cpu_only and nodes:
        if pool.gpu_problem:
            conditions.append(condition("GpuTypeDetected", False, "GpuTypeUnknown", pool.gpu_problem))
        elif pool.gpu is not None:
            message = f"{pool.gpu.key} from the nodes' labels (spec.gpu is not set)"
            conditions.append(condition("GpuTypeDetected", True, "FromNodeLabels", message))
    old_conditions = (previous or {}).get("conditions")
    status: dict[str, Any] = {
        "observedGeneration": generation,
        "nodes": nodes,
        "gpusTotal": cap.gpus_total if cap else 0,
        "gpusAllocatable": cap.gpus_allocatable if cap else 0,
        "gpusRequested": cap.gpus_requested if cap else 0,
        "gpusFree": cap.gpus_free if cap else 0,
        "conditions": merge_conditions(old_conditions, conditions, now, generation),
    }
    if pool.gpu is not None:
        status["gpuType"] = pool.gpu.key
    return status


def pool_statuses(
    pools: Sequence[Pool], manifests: Sequence[Mapping[str, Any]], now: str
) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """Pool name -> (current status, desired status), for PlacementPool objects only (discovered pools have none)."""
    by_name = {p.name: p for p in pools}
    out = {}
    for manifest in manifests:
        meta = manifest.get("metadata") or {}
        pool = by_name.get(str(meta.get("name")))
        if pool is None:
            continue
        current = dict(manifest.get("status") or {})
        out[pool.name] = (current, pool_status(pool, meta.get("generation"), current, now))
    return out
