"""Warm standby's decision and status (pure): KEDA's Active condition read from a ScaledObject, the idle
period as hysteresis (from lastActiveTime, or from when idleness was first seen), waking at once, waiting
while the autoscaler is above the standby floor, staying awake without a wake-up signal, backoff after
failed calls, and status.standby, the WarmStandby condition and the Events after the calls.
"""

from __future__ import annotations

from genai_operator.api.standby import WarmStandby
from genai_operator.formats.timestamps import to_stamp
from genai_operator.reconcile.standby import (
    ASLEEP,
    AWAKE,
    UNKNOWN,
    WAITING,
    Previous,
    Signal,
    StandbyPlan,
    StandbyPod,
    backoff_seconds,
    decide,
    scaled_object_signal,
)
from genai_operator.status.standby import CallOutcome, previous_standby, standby_status

NOW = 1_800_000_000.0
STANDBY = WarmStandby(idle_seconds=600)
PODS = [StandbyPod("m-a", True), StandbyPod("m-b", False)]
NOTHING_YET = Previous()


def plan_for(
    signal: Signal, previous: Previous = NOTHING_YET, *, replicas: int = 1, can_wake: bool = True
) -> StandbyPlan:
    return decide(STANDBY, signal, PODS, previous, replicas=replicas, can_wake=can_wake, now=NOW)


def test_the_signal_is_keda_active_condition_and_last_active_time() -> None:
    so = {
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "Active", "status": "False"}],
            "lastActiveTime": to_stamp(NOW - 30),
        }
    }
    assert scaled_object_signal(so) == Signal(False, NOW - 30)
    assert scaled_object_signal({"status": {"conditions": [{"type": "Active", "status": "True"}]}}) == Signal(True)
    assert scaled_object_signal({"status": {"conditions": [{"type": "Active", "status": "Unknown"}]}}) == Signal(None)
    assert scaled_object_signal(None) == Signal(None)


def test_idle_for_less_than_the_idle_period_waits_and_asks_to_be_looked_at_again() -> None:
    plan = plan_for(Signal(False, NOW - 100))
    assert (plan.state, plan.to_sleep, plan.to_wake) == (WAITING, (), ())
    assert plan.recheck_after == 500 and plan.idle_since == NOW - 100


def test_idle_past_the_idle_period_puts_the_ready_pods_to_sleep() -> None:
    plan = plan_for(Signal(False, NOW - 601))
    assert plan.state == ASLEEP and plan.to_sleep == ("m-a",)  # m-b is not ready: nothing to call yet


def test_without_last_active_time_the_idle_period_counts_from_when_idleness_was_first_seen() -> None:
    first = plan_for(Signal(False))
    assert first.idle_since == NOW and first.to_sleep == () and first.recheck_after == 600
    later = plan_for(Signal(False), Previous(idle_since=NOW - 700))
    assert later.to_sleep == ("m-a",)


def test_active_wakes_every_sleeping_pod_at_once_and_forgets_vanished_ones() -> None:
    plan = plan_for(Signal(True, NOW), Previous(sleeping=frozenset({"m-a", "gone"}), idle_since=NOW - 9999))
    assert plan.to_wake == ("m-a",) and plan.to_sleep == () and plan.idle_since is None and plan.state == AWAKE


def test_a_flapping_signal_never_sleeps_within_the_idle_period() -> None:
    previous = Previous()
    for step in range(20):  # active and idle every 30 s: lastActiveTime keeps moving
        signal = Signal(step % 2 == 0, NOW - 30 if step % 2 else NOW)
        plan = decide(STANDBY, signal, PODS, previous, replicas=1, can_wake=True, now=NOW)
        assert plan.to_sleep == ()
        previous = Previous(idle_since=plan.idle_since)


def test_above_the_standby_floor_the_autoscaler_scales_down_first() -> None:
    plan = plan_for(Signal(False, NOW - 9999), replicas=3)
    assert plan.state == WAITING and plan.to_sleep == ()


def test_no_report_from_keda_yet_changes_nothing() -> None:
    assert plan_for(Signal(None)).state == UNKNOWN
    asleep = plan_for(Signal(None), Previous(sleeping=frozenset({"m-a"})))
    assert asleep.state == ASLEEP and asleep.to_wake == () and asleep.to_sleep == ()


def test_without_a_wake_up_signal_nothing_sleeps_and_sleepers_are_woken() -> None:
    plan = plan_for(Signal(False, NOW - 9999), Previous(sleeping=frozenset({"m-a"})), can_wake=False)
    assert plan.to_sleep == () and plan.to_wake == ("m-a",) and "wake-up signal" in plan.note


def test_failed_calls_back_off_doubling_up_to_ten_minutes() -> None:
    assert [backoff_seconds(n) for n in (0, 1, 2, 3, 10, 1000)] == [0, 15, 30, 60, 600, 600]
    held = plan_for(Signal(False, NOW - 9999), Previous(failures=2, last_error_at=NOW - 10))
    assert held.to_sleep == () and held.recheck_after == 20 and "backing off" in held.note
    due = plan_for(Signal(False, NOW - 9999), Previous(failures=2, last_error_at=NOW - 31))
    assert due.to_sleep == ("m-a",)


def test_status_after_a_sleep_records_the_pods_the_time_and_posts_one_event() -> None:
    plan = plan_for(Signal(False, NOW - 601))
    status, cond, events = standby_status(plan, [CallOutcome("m-a", "sleep")], None, now=NOW, host_bytes=5)
    assert status == {
        "state": ASLEEP,
        "sleepingReplicas": 1,
        "sleepingPods": ["m-a"],
        "hostMemoryBytesPerReplica": 5,
        "idleSince": to_stamp(NOW - 601),
        "lastSleepTime": to_stamp(NOW),
    }
    assert (cond["type"], cond["status"], cond["reason"]) == ("WarmStandby", "True", ASLEEP)
    assert [(e.type, e.reason) for e in events] == [("Normal", "Sleeping")]
    assert previous_standby({"standby": status}) == Previous(frozenset({"m-a"}), NOW - 601, 0, None)


def test_status_after_a_failed_wake_keeps_the_pod_asleep_counts_the_failure_and_warns() -> None:
    previous = {"sleepingPods": ["m-a"], "lastSleepTime": to_stamp(NOW - 900), "state": ASLEEP}
    plan = plan_for(Signal(True, NOW), previous_standby({"standby": previous}))
    outcome = CallOutcome("m-a", "wake", "503 ServiceUnavailable: pod not ready")
    status, cond, events = standby_status(plan, [outcome], previous, now=NOW, host_bytes=5)
    assert status["sleepingPods"] == ["m-a"] and status["failures"] == 1
    assert status["lastError"] == "wake m-a: 503 ServiceUnavailable: pod not ready"
    assert (cond["status"], cond["reason"]) == ("False", "WakeFailed")
    assert [(e.type, e.reason) for e in events] == [("Warning", "StandbyCallFailed")]
    woken, cond, events = standby_status(plan, [CallOutcome("m-a", "wake")], status, now=NOW + 15, host_bytes=5)
    assert "failures" not in woken and woken["state"] == AWAKE and woken["lastWakeTime"] == to_stamp(NOW + 15)
    assert cond["status"] == "True" and [e.reason for e in events] == ["WokenUp"]


def test_an_unchanged_pass_gives_the_same_status() -> None:
    plan = plan_for(Signal(False, NOW - 601))
    first, _, _ = standby_status(plan, [CallOutcome("m-a", "sleep")], None, now=NOW, host_bytes=5)
    again = plan_for(Signal(False, NOW - 601), previous_standby({"standby": first}))
    assert again.to_sleep == () and again.state == ASLEEP
    second, _, events = standby_status(again, [], first, now=NOW + 60, host_bytes=5)
    assert second == first and events == []
