"""Capacity planning of a whole set of ModelDeployments on one inventory (`genai-operator plan`).

Models are planned in turn and each one's replicas take node capacity from the next (placement/packing.py,
best fit per node). When that leaves replicas without a node, the set is packed a second time, largest
replica first, and the order leaving fewer replicas without a node wins (then the one using fewer GPUs);
ties keep the input order, which is also the order of the report. Decreasing order helps because GPU
counts are 1, 2, 4 or 8: placed largest first on nodes of 1, 2, 4 or 8 GPUs, every node's free count
stays a multiple of the replica being placed, so a replica finds no node only when the pool is full;
and a large model no longer loses its only pool to small ones that could have gone elsewhere.

The report per model is DESIGN.md section 5 (`entries`); `pools` and `summary` feed the table view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.scaling import standby_of
from genai_operator.placement.advice import capacity_advice
from genai_operator.placement.packing import Ledger, Placed
from genai_operator.placement.types import PlacementDecision, Pool
from genai_operator.planning.group_plan import group_fields
from genai_operator.planning.mig_plan import annotate_slices, slice_of
from genai_operator.planning.plan import SpecError, plan_model_deployment
from genai_operator.planning.plan_cache import PoolPlanCache
from genai_operator.planning.usage import PlanSummary, PoolUsage, pool_usage, replica_gpu_bound, summarize
from genai_operator.render.metadata import md_namespace
from genai_operator.settings import Settings
from genai_operator.sizing.standby import standby_host_bytes

ORDER_INPUT = "input order"
ORDER_LARGEST = "largest replica first"


@dataclass(frozen=True)
class PlanResult:
    entries: list[dict[str, Any]]  # DESIGN.md section 5, one per ModelDeployment, in input order
    pools: list[PoolUsage]  # empty without an inventory
    summary: PlanSummary
    without_node: list[dict[str, int]]  # per entry: pool -> replicas that found no node (pending or waiting)
    slice_notes: list[str] = field(default_factory=list)  # MIG slice pools: slices used of total


@dataclass
class _Packing:
    """One pass over the models in some order against a fresh ledger."""

    ledger: Ledger | None
    decisions: dict[int, PlacementDecision] = field(default_factory=dict)
    placed: dict[int, list[tuple[int, int, Placed]]] = field(default_factory=dict)  # (gpus, bytes, placed)
    advice: dict[int, list[str]] = field(default_factory=dict)

    @property
    def unplaced(self) -> int:
        return sum(p.waiting + p.pending for shares in self.placed.values() for _g, _b, p in shares)

    @property
    def gpus(self) -> int:
        return sum(g * (p.on_nodes + p.waiting) for shares in self.placed.values() for g, _b, p in shares)


def report_entry(md: ModelDeployment, decision: PlacementDecision) -> dict[str, Any]:
    primary = decision.primary
    entry: dict[str, Any] = {
        "name": md.metadata.name,
        "namespace": md_namespace(md),
        "task": md.spec.task.value,
        "engine": None,
        "precision": None,
        "weightsBytes": None,
        "kvCacheBytes": None,
        "totalBytesPerReplica": None,
        "gpuType": None,
        "gpusPerReplica": None,
        "tensorParallel": None,
        "kvCacheTokens": None,
        "fullContextSequences": None,
        "standbyHostBytes": None,  # warm standby: CPU memory a sleeping replica holds its weights in
        "placement": [{"pool": a.pool.name, "replicas": a.replicas} for a in decision.assignments],
        "fits": decision.fits,
        "reasons": list(decision.reasons),
        "slice": None,
    }
    if primary is not None:
        entry["slice"] = slice_of(primary)
        sizing = primary.sizing
        est = sizing.estimate
        entry.update(
            {
                "engine": primary.engine.value,
                "precision": est.precision.value,
                "weightsBytes": est.weights_bytes,
                "kvCacheBytes": est.kv_cache_bytes,
                "totalBytesPerReplica": est.total_bytes,
                "gpuType": sizing.gpu.key if sizing.gpu else "cpu",
                "gpusPerReplica": sizing.gpus_per_replica,
                "tensorParallel": sizing.tensor_parallel,
                **group_fields(sizing, always=True),
                "kvCacheTokens": sizing.kv_tokens,
                "fullContextSequences": sizing.full_sequences,
            }
        )
        if (standby := standby_of(md.spec.scaling)) is not None:
            entry["standbyHostBytes"] = standby_host_bytes(est, standby.level)
    return entry


def _pack(
    deployments: Sequence[ModelDeployment],
    order: Sequence[int],
    pools: list[Pool] | None,
    settings: Settings,
    planner: PoolPlanCache,
    complete: bool,
) -> _Packing:
    packing = _Packing(Ledger(pools) if pools is not None else None)
    for index in order:
        md = deployments[index]
        current = packing.ledger.current() if packing.ledger else None
        try:
            decision = plan_model_deployment(md, current, settings, planner=planner, complete=complete)
        except SpecError as exc:
            raise SpecError(exc.field, f"{md.key()}: {exc}") from None
        packing.decisions[index] = decision
        shares: list[tuple[int, int, Placed]] = []
        advice: list[str] = []
        for a in decision.assignments:
            gpus, size = a.sizing.gpus_per_replica, a.sizing.estimate.total_bytes
            if packing.ledger is None:
                placed = Placed(on_nodes=a.replicas)
            else:
                placed = packing.ledger.take(a.pool.name, gpus, size, a.replicas, a.sizing.nodes)
                advice += capacity_advice(packing.ledger.pools[a.pool.name], gpus, size, placed)
            # A MIG slice is not a GPU: slice pools count their slices apart (planning/mig_plan.py).
            shares.append((0 if a.pool.slices else a.sizing.total_gpus, size, placed))
        packing.placed[index] = shares
        packing.advice[index] = advice
    return packing


def _largest_first(first: _Packing, count: int) -> list[int]:
    def size(index: int) -> tuple[int, int, int]:
        primary = first.decisions[index].primary
        if primary is None:
            return (0, 0, index)
        return (-primary.sizing.total_gpus, -primary.sizing.estimate.total_bytes, index)

    return sorted(range(count), key=size)


def plan_all(
    deployments: Sequence[ModelDeployment], pools: list[Pool] | None, settings: Settings, *, complete: bool = False
) -> PlanResult:
    """Plan every ModelDeployment onto the pools; see the module docstring for the packing order.
    `complete` sizes every allowed pool for every model (planning.plan_model_deployment); the report is the same.

    Raises SpecError (bad input, not a capacity answer) naming the ModelDeployment and the field.
    """
    planner = PoolPlanCache()
    inputs = list(range(len(deployments)))
    chosen, order_name = _pack(deployments, inputs, pools, settings, planner, complete), ORDER_INPUT
    if chosen.unplaced and pools is not None:
        order = _largest_first(chosen, len(deployments))
        if order != inputs:
            other = _pack(deployments, order, pools, settings, planner, complete)
            if (other.unplaced, other.gpus) < (chosen.unplaced, chosen.gpus):
                chosen, order_name = other, ORDER_LARGEST
    entries = []
    without_node = []
    bound = needed = given = 0  # GPUs; GPU bytes the placed replicas need, and that their GPUs hold
    for index, md in enumerate(deployments):
        decision = chosen.decisions[index]
        entry = report_entry(md, decision)
        entry["reasons"].extend(r for r in chosen.advice[index] if r not in entry["reasons"])
        entries.append(entry)
        shares = list(zip(decision.assignments, chosen.placed[index], strict=True))
        without_node.append({a.pool.name: p.pending + p.waiting for a, (_g, _b, p) in shares if p.pending + p.waiting})
        util = md.spec.serving.gpu_memory_utilization_percent
        for a, (_g, _b, placed) in shares:
            if a.pool.slices is not None:
                continue
            count = placed.on_nodes + placed.waiting
            bound += count * replica_gpu_bound(a, util)
            if a.sizing.gpu is not None:
                needed += count * a.sizing.estimate.total_bytes
                given += count * a.sizing.total_gpus * a.sizing.gpu.usable_bytes
    usage = pool_usage(chosen.ledger) if chosen.ledger else []
    notes = annotate_slices(entries, usage, chosen.ledger)
    placed_all = [p for shares in chosen.placed.values() for _g, _b, p in shares]
    summary = summarize(entries, usage, placed_all, (chosen.gpus, bound, needed, given), order_name)
    return PlanResult(entries=entries, pools=usage, summary=summary, without_node=without_node, slice_notes=notes)
