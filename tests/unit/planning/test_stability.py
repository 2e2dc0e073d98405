"""Placement stability (pure): stuck pools are capped after the timeout (longer for autoscaled pools), a
better split waits for the hold, a forced move or a scaling change applies at once, the wait survives in
`pending_since`, and the env settings for these timings."""

from __future__ import annotations

import pytest

from genai_operator.controller.kopf_setup import run_options
from genai_operator.planning.hysteresis import PoolHealth, Timings, caps_for_stuck_pools, stabilize
from genai_operator.settings import Settings, SettingsError

T = Timings(unschedulable_seconds=120, autoscaled_unschedulable_seconds=600, return_seconds=300)


def test_caps_only_after_the_timeout_and_longer_on_autoscaled_pools() -> None:
    health = {
        "edge": PoolHealth(scheduled=1, unschedulable=1, unschedulable_seconds=130),
        "young": PoolHealth(scheduled=2, unschedulable=1, unschedulable_seconds=30),
        "karpenter": PoolHealth(scheduled=0, unschedulable=2, unschedulable_seconds=300),
        "fine": PoolHealth(scheduled=3),
    }
    assert caps_for_stuck_pools(health, {"karpenter"}, T) == {"edge": 1}
    health["karpenter"] = PoolHealth(scheduled=0, unschedulable=2, unschedulable_seconds=601)
    assert caps_for_stuck_pools(health, {"karpenter"}, T) == {"edge": 1, "karpenter": 0}


@pytest.mark.parametrize(
    ("previous", "desired", "forced", "pending", "now", "expected", "pending_after"),
    [
        # first placement, or nothing to change
        (None, {"a": 2}, set(), None, 0, {"a": 2}, None),
        ({"a": 2, "b": 1}, {"a": 2, "b": 1}, set(), 50.0, 100, {"a": 2, "b": 1}, None),
        # a better split appears: held, the wait starts now
        ({"a": 1, "b": 2}, {"a": 2, "b": 1}, set(), None, 100, {"a": 1, "b": 2}, 100.0),
        # still within the hold
        ({"a": 1, "b": 2}, {"a": 2, "b": 1}, set(), 100.0, 399, {"a": 1, "b": 2}, 100.0),
        # the hold is over: move
        ({"a": 1, "b": 2}, {"a": 2, "b": 1}, set(), 100.0, 400, {"a": 2, "b": 1}, None),
        # the previous split must leave a pool (stuck replicas, pool gone): at once
        ({"a": 2, "b": 1}, {"b": 3}, {"a"}, None, 100, {"b": 3}, None),
        # scaling changes the total: re-split at once
        ({"a": 2, "b": 1}, {"a": 2, "b": 2}, set(), 100.0, 150, {"a": 2, "b": 2}, None),
    ],
)
def test_stabilize(
    previous: dict[str, int] | None,
    desired: dict[str, int],
    forced: set[str],
    pending: float | None,
    now: float,
    expected: dict[str, int],
    pending_after: float | None,
) -> None:
    result = stabilize(previous, desired, forced=forced, pending_since=pending, now=now, timings=T)
    assert {k: v for k, v in result.shares.items() if v} == expected
    assert result.pending_since == pending_after
    if pending_after is not None:
        assert result.recheck_after == pytest.approx(300 - (now - pending_after))
        assert "300s" in result.note  # a constant note: an unchanged status is not rewritten


def test_oscillation_faster_than_the_hold_never_moves() -> None:
    current = {"edge": 2, "cloud": 1}
    pending: float | None = None
    for second in range(0, 1200, 100):  # capacity drops and returns every 100 s; the hold is 300 s
        desired = {"edge": 1, "cloud": 2} if second % 200 == 0 else dict(current)
        result = stabilize(current, desired, forced=set(), pending_since=pending, now=float(second), timings=T)
        assert result.shares == current
        pending = result.pending_since


def test_timings_from_the_environment() -> None:
    env = {"GENAI_OPERATOR_UNSCHEDULABLE_SECONDS": "30", "GENAI_OPERATOR_RETURN_SECONDS": "90"}
    options = run_options(Settings.from_env(env), kubeconfig=None, metrics_port=0)
    assert options.timings == Timings(unschedulable_seconds=30, return_seconds=90)
    with pytest.raises(SettingsError, match="GENAI_OPERATOR_RETURN_SECONDS=-1: negative"):
        Settings.from_env({"GENAI_OPERATOR_RETURN_SECONDS": "-1"})
