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

from collections.abc import Mapping
from typing import Any

from genai_operator.placement.types import PlacementDecision, PoolAssignment
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


def choose_rollouts(
    md_name: str,
    desired: list[dict[str, Any]],
    observed: Mapping[ChildKey, Mapping[str, Any]],
    decision: PlacementDecision,
) -> dict[str, str]:
    """Set each Deployment's strategy in `desired` (in place); the strategy name per pool, for status."""
    by_name = {obj["metadata"]["name"]: obj for obj in desired if obj.get("kind") in ("Deployment", "StatefulSet")}
    chosen: dict[str, str] = {}
    for assignment in decision.assignments:
        obj = by_name.get(workload_name(md_name, assignment.pool))
        if obj is None:
            continue
        if obj["kind"] == "StatefulSet":
            chosen[assignment.pool.name] = ONE_AT_A_TIME_NAME
            continue
        current = observed.get(("Deployment", obj["metadata"]["name"]))
        current_spec = (current or {}).get("spec") or {}
        rolling = current is not None and not is_subset(obj["spec"]["template"], current_spec.get("template"))
        if current is not None and not rolling and current_spec.get("strategy"):
            obj["spec"]["strategy"] = current_spec["strategy"]  # no rollout under way: keep what is there
        elif rolling:
            params = SURGE if surge_room(assignment) else ONE_AT_A_TIME
            obj["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": dict(params)}
        update = (obj["spec"].get("strategy") or {}).get("rollingUpdate") or {}
        chosen[assignment.pool.name] = (
            SURGE_NAME if update.get("maxSurge", 1) not in (0, "0", "0%") else ONE_AT_A_TIME_NAME
        )
    return chosen
