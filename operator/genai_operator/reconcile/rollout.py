"""How each pool's replicas roll out when the pod template changes (new revision, precision, engine...). Pure.

Surge (maxSurge 1, maxUnavailable 0) never drops serving capacity: the new replica loads its model (the
startup probe waits for it) before an old one goes. It needs room for one more replica in the pool. When
the pool has none, a surge pod would sit Pending forever and the rollout would never finish, so the
rollout goes one replica at a time (maxSurge 0, maxUnavailable 1) and status says that capacity drops by
one replica meanwhile. Autoscaled pools (nodes on demand) and pools of unknown capacity surge.

The choice is made when a rollout starts (the template differs from the server's) and then kept: the surge
pod itself takes the free room, and re-deciding mid-rollout would flip the strategy back and forth.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from genai_operator.placement.types import PlacementDecision, PoolAssignment
from genai_operator.reconcile.children import WORKLOAD_KINDS
from genai_operator.reconcile.diff import ChildKey, is_subset
from genai_operator.render.deployment import SURGE
from genai_operator.render.names import workload_name

ONE_AT_A_TIME = {"maxSurge": 0, "maxUnavailable": 1}
SURGE_NAME, ONE_AT_A_TIME_NAME = "Surge", "OneAtATime"


def surge_room(assignment: PoolAssignment) -> bool:
    """Whether the pool can take one replica beyond this model's current ones (other models' pods counted)."""
    pool, gpus = assignment.pool, assignment.sizing.gpus_per_replica
    capacity = pool.capacity
    if pool.autoscaled or capacity is None or gpus < 1 or pool.cpu_only:
        return True
    # The capacity the controller plans with leaves this model's own pods out, so they are taken off here.
    slots = (
        sum(free // gpus for free in capacity.free_gpus_per_node)
        if capacity.free_gpus_per_node
        else capacity.gpus_free // gpus
    )
    return slots - assignment.replicas >= 1


@dataclass(frozen=True)
class Rollout:
    """How one pool's workload rolls out: the strategy name status shows, and the Deployment strategy to set
    (None: as rendered; a StatefulSet always updates one pod at a time)."""

    workload: str  # the Deployment's or StatefulSet's name
    name: str  # SURGE_NAME or ONE_AT_A_TIME_NAME
    strategy: Mapping[str, Any] | None = None


def choose_rollouts(
    md_name: str,
    desired: Sequence[Mapping[str, Any]],
    observed: Mapping[ChildKey, Mapping[str, Any]],
    decision: PlacementDecision,
) -> dict[str, Rollout]:
    """The rollout of each pool's workload, by pool name; `desired` and `observed` are left as they are
    (`with_rollouts` applies the choice to the desired objects)."""
    by_name = {obj["metadata"]["name"]: obj for obj in desired if obj.get("kind") in WORKLOAD_KINDS}
    chosen: dict[str, Rollout] = {}
    for assignment in decision.assignments:
        obj = by_name.get(workload_name(md_name, assignment.pool))
        if obj is None:
            continue
        name = obj["metadata"]["name"]
        if obj["kind"] == "StatefulSet":
            chosen[assignment.pool.name] = Rollout(name, ONE_AT_A_TIME_NAME)
            continue
        current = observed.get(("Deployment", name))
        current_spec = (current or {}).get("spec") or {}
        rolling = current is not None and not is_subset(obj["spec"]["template"], current_spec.get("template"))
        strategy: Mapping[str, Any] | None = None
        if current is not None and not rolling and current_spec.get("strategy"):
            strategy = current_spec["strategy"]  # no rollout under way: keep what is there
        elif rolling:
            params = SURGE if surge_room(assignment) else ONE_AT_A_TIME
            strategy = {"type": "RollingUpdate", "rollingUpdate": dict(params)}
        update = (strategy or obj["spec"].get("strategy") or {}).get("rollingUpdate") or {}
        surges = update.get("maxSurge", 1) not in (0, "0", "0%")
        chosen[assignment.pool.name] = Rollout(name, SURGE_NAME if surges else ONE_AT_A_TIME_NAME, strategy)
    return chosen


def with_rollouts(desired: Sequence[dict[str, Any]], rollouts: Mapping[str, Rollout]) -> list[dict[str, Any]]:
    """The desired objects with each Deployment's chosen strategy in place: new objects where it is set,
    the others as they were (nothing given is changed)."""
    strategies = {r.workload: r.strategy for r in rollouts.values() if r.strategy is not None}
    out = []
    for obj in desired:
        strategy = strategies.get(obj["metadata"]["name"]) if obj.get("kind") == "Deployment" else None
        out.append(obj if strategy is None else {**obj, "spec": {**obj["spec"], "strategy": copy.deepcopy(strategy)}})
    return out


def rollout_names(rollouts: Mapping[str, Rollout]) -> dict[str, str]:
    """The strategy name per pool, as status.placement[].rollout shows it."""
    return {pool: rollout.name for pool, rollout in rollouts.items()}
