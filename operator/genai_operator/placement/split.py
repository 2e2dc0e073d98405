"""Splitting a replica count across candidate pools: Ordered, Spread, Cheapest, with or without spillover."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from genai_operator.api.enums import PlacementStrategy


@dataclass(frozen=True)
class Candidate:
    """A pool the model fits on, with how many more replicas it can take (None: unbounded/unknown)."""

    name: str
    room: int | None
    cost_per_replica_hour: Decimal | None = None
    capacity_pending: bool = False  # no room figure because nodes come on demand (autoscaled, or none yet)
    capped: bool = False  # room limited to the replicas that could schedule here


@dataclass(frozen=True)
class Share:
    name: str
    replicas: int
    reason: str


def split_replicas(
    replicas: int, candidates: Sequence[Candidate], strategy: PlacementStrategy, spillover: bool
) -> tuple[list[Share], int]:
    """Shares per pool (in candidate order, zero shares omitted) and the replicas that found no room.

    Replicas without room are still given to the first pool (they stay Pending there until capacity
    appears), so the count asked for is never silently dropped; the second value says how many.
    """
    if not candidates:
        return [], replicas
    order = list(candidates)
    if strategy == PlacementStrategy.CHEAPEST:
        # Pools without a price go last; ties keep the user's order (sorted is stable).
        order.sort(key=lambda c: (c.cost_per_replica_hour is None, c.cost_per_replica_hour or Decimal(0)))
    if not spillover:
        order = order[:1]
    counts = {c.name: 0 for c in order}
    room = {c.name: c.room for c in order}
    left = replicas
    if strategy == PlacementStrategy.SPREAD:
        while left > 0:
            progressed = False
            for cand in order:
                if left > 0 and _has_room(room[cand.name], counts[cand.name]):
                    counts[cand.name] += 1
                    left -= 1
                    progressed = True
            if not progressed:
                break
    else:
        for cand in order:
            limit = room[cand.name]
            take = left if limit is None else min(left, limit)
            counts[cand.name] += take
            left -= take
    unplaced = left
    if unplaced:
        counts[order[0].name] += unplaced
    shares = []
    for index, cand in enumerate(order):
        if counts[cand.name] == 0:
            continue
        shares.append(
            Share(
                cand.name,
                counts[cand.name],
                _reason(strategy, index, cand, counts[cand.name], unplaced if index == 0 else 0),
            )
        )
    return shares, unplaced


def _has_room(room: int | None, used: int) -> bool:
    return room is None or used < room


def _reason(strategy: PlacementStrategy, index: int, cand: Candidate, count: int, pending: int) -> str:
    if cand.capacity_pending:
        room = "capacity pending: nodes are added on demand"
    elif cand.capped:
        room = f"held at {cand.room}: more replicas could not be scheduled here"
    else:
        # The room figure only where it bound the share: elsewhere it moves with every other model's pods,
        # and status would be rewritten (and every ModelDeployment re-written on restart) for nothing.
        room = (
            "capacity unknown" if cand.room is None else (f"room for {cand.room}" if count >= cand.room else "has room")
        )
    if strategy == PlacementStrategy.SPREAD:
        text = f"spread across pools ({room})"
    elif strategy == PlacementStrategy.CHEAPEST:
        price = "no price" if cand.cost_per_replica_hour is None else f"{cand.cost_per_replica_hour}/replica-hour"
        text = f"cheapest first ({price}, {room})"
    elif index == 0:
        text = f"first choice ({room})"
    else:
        text = f"spillover from earlier pools ({room})"
    if pending:
        text += f"; {pending} replica(s) pending capacity"
    return text
