"""From a validated ModelDeployment and the known pools to a PlacementDecision (pure).

This is the composition of the pure layers: spec -> sizing request -> per-pool engine and sizing ->
replica split. The CLI (`plan`, `render`) and the operator's reconcile both call `plan_model_deployment`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from genai_operator.api.cache import ModelCache
from genai_operator.api.enums import Engine, PlacementStrategy, Precision, QuantMethod, Tier
from genai_operator.api.modeldeployment import ModelDeployment, ModelDeploymentSpec
from genai_operator.api.task import ENCODER_TASKS
from genai_operator.formats.quantity import GIB
from genai_operator.placement.inventory import replicas_that_fit
from genai_operator.placement.pools import default_pool
from genai_operator.placement.split import Candidate, Share, split_replicas
from genai_operator.placement.types import PlacementDecision, Pool, PoolAssignment
from genai_operator.planning.encoder_plan import size_encoder_on
from genai_operator.planning.group_plan import group_if_needed, single_node_first
from genai_operator.planning.mig_plan import size_on_slices
from genai_operator.planning.model_shape import SpecError, model_shape
from genai_operator.planning.standby_plan import standby_misfit
from genai_operator.settings import Settings
from genai_operator.sizing.concurrency import DEFAULT_CONTEXT
from genai_operator.sizing.estimator import size_for_cpu, size_model
from genai_operator.sizing.gpu_catalog import gpu_by_key
from genai_operator.sizing.types import GpuType, SizingDecision, SizingRequest

__all__ = ["PoolPlan", "SpecError", "model_shape", "plan_model_deployment", "plan_pool"]

# Memory assumed for a CPU-only pool whose nodes are not known (offline, no inventory).
UNKNOWN_CPU_NODE_BYTES = 16 * GIB


@dataclass(frozen=True)
class PoolPlan:
    """The per-pool answer before replicas are split."""

    pool: Pool
    engine: Engine
    sizing: SizingDecision


def resolve_engine(spec: ModelDeploymentSpec, pool: Pool) -> Engine:
    """Auto: TEI for embedding and reranking, llama.cpp for GGUF, CPU-only and edge pools (unless the pool
    says otherwise), else vLLM. Auto never picks SGLang or TGI: a pool's engineDefaults.engine may."""
    if spec.engine != Engine.AUTO:
        return spec.engine
    if spec.task in ENCODER_TASKS:
        return Engine.TEI
    if spec.quantization.method == QuantMethod.GGUF:
        return Engine.LLAMA_CPP
    defaults = pool.engine_defaults
    if defaults is not None and defaults.engine not in (Engine.AUTO, Engine.TEI):
        return defaults.engine
    if pool.cpu_only or pool.tier == Tier.EDGE:
        return Engine.LLAMA_CPP
    return Engine.VLLM


def sizing_request(spec: ModelDeploymentSpec, pool: Pool, engine: Engine) -> SizingRequest:
    parameters, shape = model_shape(spec)
    quant = spec.quantization
    precision, method, gguf_type = quant.precision, quant.method, quant.gguf_type
    defaults = pool.engine_defaults
    # Pool defaults fill only what the user left on Auto, and only for the engine they were written for.
    user_left_auto = precision == Precision.AUTO and method == QuantMethod.NONE
    if defaults is not None and user_left_auto and defaults.engine in (Engine.AUTO, engine):
        precision = defaults.precision
        if defaults.method is not None and (defaults.method != QuantMethod.GGUF or engine == Engine.LLAMA_CPP):
            method = defaults.method
            gguf_type = defaults.gguf_type if method == QuantMethod.GGUF else None
    gpu_count = spec.resources.gpu.count
    return SizingRequest(
        parameters=parameters,
        shape=shape,
        precision=precision,
        method=method,
        gguf_type=gguf_type,
        kv_cache=quant.kv_cache,
        max_context=spec.serving.max_context_length or min(DEFAULT_CONTEXT, shape.max_context),
        max_sequences=spec.serving.max_concurrent_sequences,  # None: Auto
        gpu_memory_utilization_percent=spec.serving.gpu_memory_utilization_percent,
        engine=engine,
        gpu_count=None if gpu_count == "Auto" else int(gpu_count),
        lora_adapters=len(spec.adapters),
        lora_rank=spec.serving.max_lora_rank if spec.adapters else 0,
    )


def allowed_gpus(spec: ModelDeploymentSpec, pool: Pool, settings: Settings) -> tuple[list[GpuType], str | None]:
    """GPU types a replica may use on this pool, and why none when the list is empty."""
    wanted = spec.resources.gpu.types
    if pool.gpu is not None:
        if wanted and pool.gpu.key not in wanted:
            return [], f"pool {pool.name} has {pool.gpu.key}, not one of spec.resources.gpu.types ({', '.join(wanted)})"
        return [pool.gpu], None
    names = wanted or list(settings.default_gpu_types)
    gpus: list[GpuType] = []
    for name in names:
        gpu = gpu_by_key(name)
        if gpu is None:
            raise SpecError(
                "spec.resources.gpu.types",
                f"unknown GPU type {name!r}; use a catalog key such as "
                "nvidia-l4, nvidia-a100-80gb or nvidia-h100-80gb (`genai-operator plan --help`)",
            )
        gpus.append(gpu)
    return gpus, None


def plan_pool(spec: ModelDeploymentSpec, pool: Pool, settings: Settings) -> PoolPlan | str:
    """Engine and sizing for one pool, or the reason the model cannot go there."""
    engine = resolve_engine(spec, pool)
    if engine == Engine.TEI and pool.slices is None:  # embedding and reranking: their own rules (sizing/encoders.py)
        gpus, why_not = ([], None) if pool.cpu_only else allowed_gpus(spec, pool, settings)
        sized = size_encoder_on(pool, sizing_request(spec, pool, engine), gpus, why_not, UNKNOWN_CPU_NODE_BYTES)
        return sized if isinstance(sized, str) else PoolPlan(pool=pool, engine=engine, sizing=sized)
    if pool.cpu_only:
        if engine != Engine.LLAMA_CPP:
            if pool.gpu_from_nodes and pool.capacity is None:
                return (
                    f"pool {pool.name} sets no spec.gpu and no node was seen to tell whether it has GPUs, so it is "
                    f"taken as CPU-only and engine {engine.value} needs a GPU: pass --nodes, or set spec.gpu"
                )
            return f"pool {pool.name} has no GPUs and engine {engine.value} needs one (llama.cpp runs on CPU)"
        memory = pool.capacity.max_memory_bytes_per_node if pool.capacity and pool.capacity.nodes else 0
        decision = size_for_cpu(sizing_request(spec, pool, engine), memory or UNKNOWN_CPU_NODE_BYTES)
    else:
        gpus, why_not = allowed_gpus(spec, pool, settings)
        if not gpus:
            return why_not or f"pool {pool.name}: no allowed GPU type"
        request = sizing_request(spec, pool, engine)
        if pool.slices is not None:  # one MIG slice per replica, the smallest profile that holds it
            sliced = size_on_slices(pool, request)
            if isinstance(sliced, str):
                return sliced
            pool, decision = sliced
        else:
            decision = group_if_needed(pool, request, size_model(request, gpus), gpus)
    if not decision.fits:
        return f"pool {pool.name}: " + "; ".join(decision.reasons)
    return standby_misfit(spec, pool, engine, decision) or PoolPlan(pool=pool, engine=engine, sizing=decision)


def candidate_pools(md: ModelDeployment, pools: Sequence[Pool] | None) -> tuple[list[Pool], list[str]]:
    """The pools the placement policy allows, in preference order, and notes on names that do not exist."""
    placement = md.spec.placement
    if pools is None:
        return [default_pool(placement.tier if placement else None)], []
    by_name = {p.name: p for p in pools}
    if placement is None:
        # No policy: GPU pools before CPU pools, edge pools last (they serve their site, not the whole
        # cluster), the user's GPU type preference first, then the smallest GPU that will do: a 0.5B model
        # should not take an MI300X because its pool sorts first.
        preference = {key: index for index, key in enumerate(md.spec.resources.gpu.types)}
        unranked = len(preference)
        return sorted(
            pools,
            key=lambda p: (
                p.cpu_only,
                p.tier == Tier.EDGE,
                preference.get(p.gpu.key if p.gpu else "", unranked),
                p.gpu.usable_bytes if p.gpu else 0,
                p.name,
            ),
        ), []
    if placement.pools is not None:
        missing = [n for n in placement.pools if n not in by_name]
        notes = [f"pool {n} does not exist (no PlacementPool and no discovered pool of that name)" for n in missing]
        return [by_name[n] for n in placement.pools if n in by_name], notes
    return sorted((p for p in pools if p.tier == placement.tier), key=lambda p: p.name), []


def plan_model_deployment(
    md: ModelDeployment,
    pools: Sequence[Pool] | None = None,
    settings: Settings | None = None,
    *,
    caps: Mapping[str, int] | None = None,
    fixed_shares: Mapping[str, int] | None = None,
    planner: Callable[[ModelDeploymentSpec, Pool, Settings], PoolPlan | str] | None = None,
    complete: bool = True,
) -> PlacementDecision:
    """Where the replicas go and how each pool's replicas are sized; raises SpecError for unusable specs.

    `caps` limit the replicas a pool may take (pools whose replicas could not schedule); `fixed_shares`
    replace the split altogether (a split held in place for stability, see planning/hysteresis.py).
    `planner` stands in for `plan_pool` (offline `plan` memoizes it per hardware class of pool).
    `complete=False` stops sizing pools once an Ordered split has room for every replica (the same
    assignments, but `eligible_pools` lists only the pools looked at): offline `plan` of 1,000 models on
    160 pools would otherwise size and measure every pool for every model.
    """
    settings = settings or Settings()
    spec = md.spec
    candidates, reasons = candidate_pools(md, pools)
    plans: list[PoolPlan] = []
    rejected: list[str] = []
    named = set(spec.placement.pools or ()) if spec.placement else set()
    strategy = spec.placement.strategy if spec.placement else PlacementStrategy.ORDERED
    spillover = spec.placement.spillover if spec.placement else True
    # Named pools keep standby Deployments, which needs all of them; they are short lists anyway.
    lazy = not complete and fixed_shares is None and strategy == PlacementStrategy.ORDERED and not named
    built: list[Candidate] = []
    room_so_far = 0
    for pool in candidates:
        result = (planner or plan_pool)(spec, pool, settings)
        if isinstance(result, str):
            rejected.append(result)
            if pool.name in named:  # the user asked for this pool: say why it was skipped
                reasons.append(result)
            continue
        plans.append(result)
        if lazy:
            built.append(_candidate(result, (caps or {}).get(pool.name)))
            room = built[-1].room
            if not spillover or room is None or room_so_far + room >= spec.replicas:
                break
            room_so_far += room
    plans, built = single_node_first(plans, built, rejected)
    if spec.model.streamed:  # never on disk: no cache claim or StatefulSet, whatever the pool keeps for others
        plans = [replace(p, pool=replace(p.pool, cache=ModelCache())) for p in plans]
    if not plans:
        if not candidates:
            reasons.append("no pool matches spec.placement")
        reasons.extend(r for r in rejected if r not in reasons)
        return PlacementDecision(assignments=(), fits=False, reasons=tuple(reasons))
    if fixed_shares is not None:
        shares = [
            Share(p.pool.name, fixed_shares[p.pool.name], "kept in place for stability")
            for p in plans
            if fixed_shares.get(p.pool.name)
        ]
        unplaced = 0
    else:
        shares, unplaced = split_replicas(
            spec.replicas,
            built if lazy else [_candidate(p, (caps or {}).get(p.pool.name)) for p in plans],
            strategy,
            spillover,
        )
    by_name = {p.pool.name: p for p in plans}
    placed = {s.name for s in shares}
    standby = [
        p
        for p in plans
        if p.pool.name in named and p.pool.name not in placed and spec.placement and spec.placement.spillover
    ]
    assignments = [
        PoolAssignment(
            pool=by_name[s.name].pool,
            replicas=s.replicas,
            engine=by_name[s.name].engine,
            sizing=by_name[s.name].sizing,
            reason=s.reason,
        )
        for s in shares
    ]
    # Named spillover pools without a share keep a Deployment at zero replicas: an autoscaler moving the
    # count up and down then scales Deployments instead of deleting and re-creating them.
    order = {p.pool.name: index for index, p in enumerate(plans)}
    assignments += [
        PoolAssignment(pool=p.pool, replicas=0, engine=p.engine, sizing=p.sizing, reason="standby for spillover")
        for p in standby
    ]
    assignments.sort(key=lambda a: order[a.pool.name])
    if not assignments:
        # Zero replicas asked for: keep the primary pool's sizing so status still shows the plan.
        first = plans[0]
        assignments = [
            PoolAssignment(
                pool=first.pool, replicas=0, engine=first.engine, sizing=first.sizing, reason="scaled to zero"
            )
        ]
    pending_note = ""
    if unplaced:
        pending_note = f"{unplaced} replica(s) exceed the free capacity of the allowed pools and stay pending"
        reasons.append(pending_note)
    return PlacementDecision(
        assignments=tuple(assignments),
        fits=True,
        reasons=tuple(reasons),
        eligible_pools=tuple(p.pool.name for p in plans),
        pending_note=pending_note,
    )


def _candidate(plan: PoolPlan, cap: int | None = None) -> Candidate:
    pool, sizing = plan.pool, plan.sizing
    room: int | None = None
    # Autoscaled pools, and pools with no node yet, grow when pods ask: capacity is pending, not missing.
    pending = pool.capacity is not None and (pool.autoscaled or pool.capacity.nodes == 0)
    if pool.capacity is not None and not pending:
        room = replicas_that_fit(pool.capacity, sizing.gpus_per_replica, sizing.estimate.total_bytes, sizing.nodes)
    if cap is not None:
        room = cap if room is None else min(room, cap)
    cost = None
    if pool.cost_per_gpu_hour is not None:
        cost = pool.cost_per_gpu_hour * max(sizing.total_gpus, 1)
    return Candidate(
        name=pool.name,
        room=room,
        cost_per_replica_hour=cost,
        capacity_pending=pending and cap is None,
        capped=cap is not None,
    )
