"""Planning over time: the fresh plan, adjusted for replicas that cannot schedule and held in place until a
better split has stayed possible (hysteresis.py). Pure: the caller passes the clock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.formats.timestamps import to_epoch, to_stamp
from genai_operator.placement.types import PlacementDecision, Pool
from genai_operator.planning.hysteresis import PoolHealth, Timings, caps_for_stuck_pools, stabilize
from genai_operator.planning.plan import plan_model_deployment
from genai_operator.settings import Settings


@dataclass(frozen=True)
class StablePlan:
    decision: PlacementDecision
    pending_since: str | None  # RFC 3339, for status.placementPendingSince
    recheck_after: float | None  # seconds until time alone may change the plan
    note: str = ""


def plan_over_time(
    md: ModelDeployment,
    pools: Sequence[Pool] | None,
    settings: Settings,
    *,
    health: Mapping[str, PoolHealth],
    now: float,
    timings: Timings,
) -> StablePlan:
    autoscaled = {p.name for p in pools or () if p.autoscaled}
    caps = caps_for_stuck_pools(health, autoscaled, timings)
    decision = plan_model_deployment(md, pools, settings, caps=caps)
    recheck = _next_stuck_check(health, autoscaled, timings, caps)
    status = md.status
    if not decision.fits or status is None or not status.placement:
        return StablePlan(decision, None, recheck)
    previous = {p.pool: p.replicas for p in status.placement}
    desired = {a.pool.name: a.replicas for a in decision.assignments}
    gone = {pool for pool, count in previous.items() if count and pool not in decision.eligible_pools}
    result = stabilize(
        previous,
        desired,
        forced=set(caps) | gone,
        pending_since=to_epoch(status.placement_pending_since),
        now=now,
        timings=timings,
    )
    if result.shares != desired:
        decision = plan_model_deployment(md, pools, settings, fixed_shares=result.shares)
    waits = [w for w in (recheck, result.recheck_after) if w is not None]
    pending = to_stamp(result.pending_since) if result.pending_since is not None else None
    return StablePlan(decision, pending, min(waits) if waits else None, result.note)


def _next_stuck_check(
    health: Mapping[str, PoolHealth], autoscaled: set[str], timings: Timings, caps: Mapping[str, int]
) -> float | None:
    """Seconds until a pool's waiting replicas reach the spill-over limit (so the queue wakes us then)."""
    waits = []
    for pool, seen in health.items():
        if seen.unschedulable and pool not in caps:
            limit = timings.autoscaled_unschedulable_seconds if pool in autoscaled else timings.unschedulable_seconds
            waits.append(max(limit - seen.unschedulable_seconds, 0.0) + 0.5)
    return min(waits) if waits else None
