"""When warm-standby replicas sleep and wake (pure): the autoscaler's signal, with the idle period as hysteresis.

The signal is KEDA's: a ScaledObject's `Active` condition is True while any trigger is above its activation
threshold (the wake-up query included), and `status.lastActiveTime` says when it last was. Active wakes
every sleeping pod at once; idle for `idleSeconds` (counted from lastActiveTime, or from when the operator
first saw it idle) puts the ready pods to sleep, once the autoscaler is down to the standby replicas (above
that it is still scaling down, and its own cooldown decides). No signal yet (KEDA has not reported) changes
nothing. Without a wake-up signal that outlives idle pods nothing sleeps: the engine's own metrics stay
flat while it sleeps, so nothing would wake it.

What the operator did is remembered in `status.standby` (the pods it put to sleep), so a pass reads no pod
state from the engines. Failed calls back off, doubling from the KEDA polling interval to ten minutes, so a
broken engine costs a call now and then, not a retry storm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from genai_operator.api.standby import WarmStandby
from genai_operator.formats.timestamps import to_epoch

AWAKE, ASLEEP, WAITING, UNKNOWN = "Awake", "Asleep", "WaitingForIdle", "Unknown"
FIRST_BACKOFF_SECONDS = 15.0  # KEDA's polling interval: a signal cannot move faster
MAX_BACKOFF_SECONDS = 600.0


@dataclass(frozen=True)
class StandbyPod:
    name: str
    ready: bool


@dataclass(frozen=True)
class Signal:
    """The autoscaler's word: active (None: not reported yet), and when it last was active (epoch)."""

    active: bool | None
    last_active: float | None = None


@dataclass(frozen=True)
class Previous:
    """What status.standby remembers from earlier passes (times as epoch seconds)."""

    sleeping: frozenset[str] = frozenset()
    idle_since: float | None = None
    failures: int = 0
    last_error_at: float | None = None


@dataclass(frozen=True)
class StandbyPlan:
    state: str
    to_sleep: tuple[str, ...] = ()
    to_wake: tuple[str, ...] = ()
    sleeping: frozenset[str] = frozenset()  # asleep before the calls (vanished pods forgotten)
    idle_since: float | None = None
    recheck_after: float | None = None  # seconds until the decision may change without any event
    note: str = ""  # why nothing sleeps although idle (no wake-up signal, backing off)


def backoff_seconds(failures: int) -> float:
    if failures <= 0:
        return 0.0
    return min(FIRST_BACKOFF_SECONDS * 2.0 ** min(failures - 1, 16), MAX_BACKOFF_SECONDS)


def scaled_object_signal(scaled_object: Mapping[str, Any] | None) -> Signal:
    """The Active condition and lastActiveTime of a ScaledObject as KEDA reports them."""
    status = (scaled_object or {}).get("status") or {}
    active: bool | None = None
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Active" and cond.get("status") in ("True", "False"):
            active = cond["status"] == "True"
    return Signal(active, to_epoch(status.get("lastActiveTime")))


def decide(
    standby: WarmStandby,
    signal: Signal,
    pods: Sequence[StandbyPod],
    previous: Previous,
    *,
    replicas: int,
    can_wake: bool,
    now: float,
) -> StandbyPlan:
    live = {p.name for p in pods}
    sleeping = previous.sleeping & live
    plan = StandbyPlan(state=ASLEEP if sleeping else AWAKE, sleeping=frozenset(sleeping))
    wait = (previous.last_error_at or now) + backoff_seconds(previous.failures) - now
    if signal.active is None:
        return replace(plan, state=ASLEEP if sleeping else UNKNOWN)
    if signal.active or not can_wake:
        note = "" if can_wake else "no wake-up signal (scaling.wakeUp.query or routing): the replicas stay awake"
        if sleeping and wait > 0:
            return replace(
                plan, state=ASLEEP, recheck_after=wait, note=f"backing off after {previous.failures} failure(s)"
            )
        return replace(plan, state=AWAKE, to_wake=tuple(sorted(sleeping)), note=note)
    idle_since = signal.last_active or previous.idle_since or now
    plan = replace(plan, idle_since=idle_since)
    if replicas > standby.replicas:  # the autoscaler is still scaling down to the floor
        return replace(plan, state=ASLEEP if sleeping else WAITING)
    remaining = idle_since + standby.idle_seconds - now
    if remaining > 0:
        return replace(plan, state=ASLEEP if sleeping else WAITING, recheck_after=remaining)
    awake = tuple(sorted(p.name for p in pods if p.ready and p.name not in sleeping))
    if awake and wait > 0:
        return replace(plan, recheck_after=wait, note=f"backing off after {previous.failures} failure(s)")
    return replace(plan, state=ASLEEP if awake or sleeping else WAITING, to_sleep=awake)
