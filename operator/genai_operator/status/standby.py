"""status.standby, the WarmStandby condition and the Events of warm standby, after a pass's calls (pure).

The status remembers which pods the operator put to sleep (so a pass asks no engine), since when the
autoscaler's signal has said idle, the last sleep and wake-up, and failed calls in a row with the last
error (reconcile/standby.py backs off on them). Events: one per sleep and per wake-up, a Warning per
failed attempt (attempts back off, so they stay rare).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from genai_operator.formats.timestamps import to_epoch, to_stamp
from genai_operator.reconcile.standby import ASLEEP, AWAKE, UNKNOWN, WAITING, Previous, StandbyPlan
from genai_operator.status.conditions import condition
from genai_operator.status.events import Event

WARM_STANDBY = "WarmStandby"  # the condition type
Action = Literal["sleep", "wake"]
SLEEP: Action = "sleep"
WAKE: Action = "wake"


@dataclass(frozen=True)
class CallOutcome:
    pod: str
    action: Action
    error: str = ""  # empty: the engine answered 2xx


def previous_standby(status: Mapping[str, Any] | None) -> Previous:
    """What an earlier pass left in status.standby, as the decision reads it."""
    standby = (status or {}).get("standby") or {}
    return Previous(
        sleeping=frozenset(standby.get("sleepingPods") or ()),
        idle_since=to_epoch(standby.get("idleSince")),
        failures=int(standby.get("failures") or 0),
        last_error_at=to_epoch(standby.get("lastErrorTime")),
    )


def standby_status(
    plan: StandbyPlan,
    outcomes: Sequence[CallOutcome],
    previous: Mapping[str, Any] | None,
    *,
    now: float,
    host_bytes: int,
) -> tuple[dict[str, Any], dict[str, Any], list[Event]]:
    """(status.standby, the WarmStandby condition, the Events) once the plan's calls have answered."""
    before = dict(previous or {})
    stamp = to_stamp(now)
    slept = [o.pod for o in outcomes if o.action == SLEEP and not o.error]
    woken = [o.pod for o in outcomes if o.action == WAKE and not o.error]
    failed = [o for o in outcomes if o.error]
    sleeping = sorted((set(plan.sleeping) | set(slept)) - set(woken))
    state = ASLEEP if sleeping else (AWAKE if plan.state == ASLEEP else plan.state)
    out: dict[str, Any] = {"state": state, "sleepingReplicas": len(sleeping), "hostMemoryBytesPerReplica": host_bytes}
    if sleeping:
        out["sleepingPods"] = sleeping
    if plan.idle_since is not None:
        out["idleSince"] = to_stamp(plan.idle_since)
    for key, moved in (("lastSleepTime", slept), ("lastWakeTime", woken)):
        if moved or before.get(key):
            out[key] = stamp if moved else before[key]
    failures = int(before.get("failures") or 0)
    if failed:
        failures += 1
        out["lastError"] = "; ".join(f"{o.action} {o.pod}: {o.error}" for o in failed)[:1024]
        out["lastErrorTime"] = stamp
    elif before.get("lastError"):
        out["lastError"], out["lastErrorTime"] = before["lastError"], before.get("lastErrorTime", stamp)
    if outcomes and not failed:
        failures = 0
    if failures:
        out["failures"] = failures
    events = []
    if slept:
        events.append(
            Event("Normal", "Sleeping", f"put {len(slept)} pod(s) to sleep, weights in CPU memory: {', '.join(slept)}")
        )
    if woken:
        events.append(Event("Normal", "WokenUp", f"woke {len(woken)} pod(s): {', '.join(woken)}"))
    if failed:
        events.append(Event("Warning", "StandbyCallFailed", f"{out['lastError']} (retried with backoff)"))
    return out, _condition(out, plan.note, failures), events


def _condition(standby: Mapping[str, Any], note: str, failures: int) -> dict[str, Any]:
    if failures:
        action = "Sleep" if str(standby.get("lastError", "")).startswith(SLEEP) else "Wake"
        return condition(WARM_STANDBY, False, f"{action}Failed", f"{standby.get('lastError', '')}; {note}".rstrip("; "))
    state = standby["state"]
    if note and state != ASLEEP:
        return condition(WARM_STANDBY, False, "NoWakeUpSignal" if "wake-up" in note else "BackingOff", note)
    messages = {
        ASLEEP: f"{standby['sleepingReplicas']} replica(s) asleep, weights in CPU memory; the autoscaler's Active "
        "condition wakes them",
        AWAKE: "replicas awake: the autoscaler's signal is active",
        WAITING: f"idle since {standby.get('idleSince', '-')}: the replicas sleep once warmStandby.idleSeconds have "
        "passed at the standby replica count",
        UNKNOWN: "waiting for KEDA to report the ScaledObject's Active condition",
    }
    return condition(WARM_STANDBY, True, state, messages.get(state, state))
