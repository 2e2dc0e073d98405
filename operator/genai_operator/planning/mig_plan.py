"""Models on MIG slices: the smallest offered profile that holds a replica, and slice counts in reports.

A replica on a slice pool is sized as one GPU of the slice's memory (weights, KV cache for the requested or
Auto concurrency, and the engine's overhead), trying the pool's profiles from the smallest up. Slices are
never combined: a MIG slice is a CUDA device of its own with no NVLink peer, so there is no tensor
parallelism across slices, and a model that fits no offered profile is not placed on the pool (the reason
names the largest profile and what the model needs). The pool handed on names the chosen profile alone, so
rendering requests that profile's resource (or DRA claim) and status reports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from genai_operator.api.enums import Engine
from genai_operator.formats.quantity import gib_text
from genai_operator.placement.packing import Ledger
from genai_operator.placement.types import MIG_SINGLE, PlacementDecision, Pool, PoolAssignment
from genai_operator.planning.usage import PoolUsage
from genai_operator.sizing.estimator import size_model
from genai_operator.sizing.mig_catalog import MigProfile, mig_products, slice_gpu
from genai_operator.sizing.types import GpuType, SizingDecision, SizingRequest


def slice_gpu_of(pool: Pool, profile: MigProfile) -> GpuType:
    """The slice as one device: requested as the pool's resource for it, pinned to its nodes' product."""
    assert pool.slices is not None and pool.gpu is not None
    slices = pool.slices
    if slices.device_class:  # the claim's CEL selector picks the device; no product label is assumed
        return slice_gpu(profile, resource="nvidia.com/gpu", products=())
    if slices.strategy == MIG_SINGLE:
        return slice_gpu(profile, resource="nvidia.com/gpu", products=mig_products(pool.gpu, profile))
    return slice_gpu(profile, resource=profile.resource, products=pool.gpu.products)


def size_on_slices(pool: Pool, request: SizingRequest) -> tuple[Pool, SizingDecision] | str:
    """The pool narrowed to the smallest profile that holds one replica, with its sizing; or why none does."""
    slices = pool.slices
    assert slices is not None
    if pool.gpu is None or not slices.profiles:
        return f"pool {pool.name}: " + (pool.gpu_problem or "no MIG profile known: set spec.gpu.slices.profiles")
    if request.engine == Engine.TEI:
        return f"pool {pool.name} offers MIG slices; embedding and reranking models (TEI) are placed on whole GPUs"
    if request.gpu_count not in (None, 1):
        return (
            f"pool {pool.name} offers MIG slices and spec.resources.gpu.count is {request.gpu_count}: slices are "
            "never combined (no tensor parallelism across slices); set count Auto or 1, or use a whole-GPU pool"
        )
    one = replace(request, gpu_count=1)
    decision: SizingDecision | None = None
    for profile in slices.profiles:
        gpu = slice_gpu_of(pool, profile)
        decision = size_model(one, [gpu])
        if decision.fits:
            chosen = replace(slices, profiles=(profile,))
            resource = "nvidia.com/gpu" if slices.device_class else gpu.resource_name
            return replace(pool, gpu=gpu, gpu_resource=resource, slices=chosen), decision
    largest = slices.profiles[-1]
    needed = decision.estimate.total_bytes if decision is not None else 0
    return (
        f"pool {pool.name}: fits no MIG slice offered (largest {largest.name}, {gib_text(largest.memory_bytes)}; "
        f"a replica needs {gib_text(needed)}); slices are never combined, so use a whole-GPU pool or offer a "
        "larger profile in spec.gpu.slices.profiles"
    )


DRA_GROUP = "resource.k8s.io"
DRA_API_MISSING = "DynamicResourceAllocationMissing"


def dra_api_missing(decision: PlacementDecision, *, dra_available: bool) -> tuple[str, str] | None:
    """(reason, message) when a pool hands out slices by DRA and the cluster serves no resource.k8s.io/v1."""
    pools = [a.pool.name for a in decision.assignments if a.pool.slices is not None and a.pool.slices.device_class]
    if not pools or dra_available:
        return None
    return (
        DRA_API_MISSING,
        f"pool(s) {', '.join(pools)} hand out MIG slices by Dynamic Resource Allocation (spec.gpu.slices."
        "deviceClassName), but the cluster serves no resource.k8s.io/v1 API: use Kubernetes 1.34 or later with "
        "NVIDIA's DRA driver, or remove deviceClassName to request nvidia.com/mig-<profile> resources",
    )


def with_slice_choice(pool: Pool, sized: Pool) -> Pool:
    """`pool` (current capacity) with the slice profile chosen on `sized`, a pool of the same hardware."""
    if pool.slices is None or sized.slices is None:
        return pool
    return replace(pool, gpu=sized.gpu, gpu_resource=sized.gpu_resource, slices=sized.slices)


def slice_of(assignment: PoolAssignment) -> dict[str, Any] | None:
    """status.sizing.slice and the plan entry's `slice`: the profile, what requests it, its memory."""
    slices = assignment.pool.slices
    if slices is None or len(slices.profiles) != 1 or assignment.sizing.gpu is None:
        return None
    profile = slices.profiles[0]
    entry: dict[str, Any] = {"profile": profile.name, "memoryBytes": profile.memory_bytes}
    if slices.device_class:
        entry["deviceClassName"] = slices.device_class
    else:
        entry["resource"] = assignment.sizing.gpu.resource_name
    return entry


def slice_note(usage: PoolUsage, pool: Pool) -> str | None:
    """`MIG slices used 2 of 7 (1g.10gb)`: a slice pool's row of the usage table, said in slices."""
    slices = pool.slices
    if slices is None or not slices.profiles:
        return None
    total = "?" if usage.gpus_total is None else str(usage.gpus_total)
    profiles = ", ".join(p.name for p in slices.profiles)
    return f"{usage.name}: MIG slices used {usage.gpus_used} of {total} ({profiles})"


def annotate_slices(entries: Sequence[dict[str, Any]], usage: Sequence[PoolUsage], ledger: Ledger | None) -> list[str]:
    """The usage table's slice lines, and each `plan -o json` entry's `slice` completed with its pool's
    slices used and total after the whole plan (several small models share one GPU's slices)."""
    if ledger is None:
        return []
    rows = {u.name: u for u in usage}
    notes = []
    for name, book in ledger.pools.items():
        note = slice_note(rows[name], book.pool) if name in rows else None
        if note:
            notes.append(note)
    for entry in entries:
        found = entry.get("slice")
        pool = entry["placement"][0]["pool"] if entry["placement"] else None
        if found is not None and pool in rows:
            found.update({"pool": pool, "slicesUsed": rows[pool].gpus_used, "slicesTotal": rows[pool].gpus_total})
    return notes
