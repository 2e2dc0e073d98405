"""Placement that holds still: spill out of a pool whose replicas cannot schedule, move back only after the
better split has been possible for a while (hysteresis), never flap with capacity that oscillates faster.

Pure: the caller passes the clock (`now`, seconds) and what it observed; the state worth keeping
(`pending_since`) goes back into the ModelDeployment status, so a restarted operator resumes the same wait.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

Shares = Mapping[str, int]


@dataclass(frozen=True)
class PoolHealth:
    """Our replicas in one pool as the cluster sees them."""

    scheduled: int = 0
    unschedulable: int = 0
    unschedulable_seconds: float = 0.0  # how long the oldest unschedulable replica has waited


@dataclass(frozen=True)
class Timings:
    unschedulable_seconds: float = 120.0  # a replica this long unschedulable moves to the next pool
    autoscaled_unschedulable_seconds: float = 600.0  # autoscaled pools get time to add a node
    return_seconds: float = 300.0  # a better split must stay possible this long before replicas move back


def caps_for_stuck_pools(health: Mapping[str, PoolHealth], autoscaled: set[str], timings: Timings) -> dict[str, int]:
    """Pools whose replicas have waited too long for a node keep only the replicas they could schedule."""
    caps = {}
    for pool, seen in health.items():
        limit = timings.autoscaled_unschedulable_seconds if pool in autoscaled else timings.unschedulable_seconds
        if seen.unschedulable and seen.unschedulable_seconds >= limit:
            caps[pool] = seen.scheduled
    return caps


@dataclass(frozen=True)
class Stabilized:
    shares: dict[str, int]
    pending_since: float | None  # when a different split first became desirable; None: none pending
    recheck_after: float | None  # seconds until the decision may change by time alone
    note: str = ""


def stabilize(
    previous: Shares | None,
    desired: Shares,
    *,
    forced: set[str],
    pending_since: float | None,
    now: float,
    timings: Timings,
) -> Stabilized:
    """Choose between the split in place (`previous`) and the freshly computed one (`desired`).

    `forced` names pools the previous split must leave now (stuck replicas, pool gone or no longer allowed).
    A change of the total (scaling) applies at once: the autoscaler decided it, and it re-splits anyway.
    """
    current = {k: v for k, v in (previous or {}).items() if v}
    wanted = {k: v for k, v in desired.items() if v}
    if not current or sum(current.values()) != sum(wanted.values()) or current == wanted:
        return Stabilized(dict(desired), None, None)
    if forced & set(current):
        return Stabilized(dict(desired), None, None, note=f"moved off {', '.join(sorted(forced & set(current)))}")
    # The split in place still serves: move only once the better one has stayed possible long enough.
    started = pending_since if pending_since is not None else now
    waited = now - started
    if waited >= timings.return_seconds:
        return Stabilized(dict(desired), None, None, note="rebalanced after capacity stayed available")
    kept = {k: current.get(k, 0) for k in desired} | current
    remaining = timings.return_seconds - waited
    return Stabilized(
        kept,
        started,
        remaining,
        # No countdown in the note: it must not change from pass to pass (an unchanged status is not rewritten).
        note=f"a better split is possible; replicas move once it has stayed so for {timings.return_seconds:.0f}s "
        "(see status.placementPendingSince)",
    )
