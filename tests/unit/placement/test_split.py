"""Replica split across pools: Ordered, Spread, Cheapest, spillover on and off, pending replicas."""

from __future__ import annotations

from decimal import Decimal

import pytest

from genai_operator.api.enums import PlacementStrategy
from genai_operator.placement.split import Candidate, split_replicas

ORDERED, SPREAD, CHEAPEST = PlacementStrategy.ORDERED, PlacementStrategy.SPREAD, PlacementStrategy.CHEAPEST


def shares(
    replicas: int, cands: list[Candidate], strategy: PlacementStrategy = ORDERED, spillover: bool = True
) -> tuple[dict[str, int], int]:
    result, unplaced = split_replicas(replicas, cands, strategy, spillover)
    return {s.name: s.replicas for s in result}, unplaced


@pytest.mark.parametrize(
    ("replicas", "rooms", "strategy", "spillover", "expected", "pending"),
    [
        (3, [2, 5], ORDERED, True, {"a": 2, "b": 1}, 0),
        (3, [None, 5], ORDERED, True, {"a": 3}, 0),
        (3, [2, 5], ORDERED, False, {"a": 3}, 1),
        (8, [2, 3], ORDERED, True, {"a": 5, "b": 3}, 3),
        (5, [10, 10, 10], SPREAD, True, {"a": 2, "b": 2, "c": 1}, 0),
        (5, [1, 10, 10], SPREAD, True, {"a": 1, "b": 2, "c": 2}, 0),
        (0, [1, 1], ORDERED, True, {}, 0),
    ],
)
def test_split(
    replicas: int,
    rooms: list[int | None],
    strategy: PlacementStrategy,
    spillover: bool,
    expected: dict[str, int],
    pending: int,
) -> None:
    cands = [Candidate(name, room) for name, room in zip("abc", rooms, strict=False)]
    assert shares(replicas, cands, strategy, spillover) == (expected, pending)


def test_cheapest_fills_the_lowest_cost_per_replica_first_and_unpriced_last() -> None:
    cands = [Candidate("h100", 4, Decimal("8.2")), Candidate("free", 4, None), Candidate("l4", 2, Decimal("1.6"))]
    result, _ = split_replicas(5, cands, CHEAPEST, True)
    assert [(s.name, s.replicas) for s in result] == [("l4", 2), ("h100", 3)]
    assert "cheapest" in result[0].reason


def test_reasons_explain_first_choice_spillover_and_pending() -> None:
    result, unplaced = split_replicas(6, [Candidate("edge", 2), Candidate("cloud", 3)], ORDERED, True)
    assert unplaced == 1
    assert "first choice" in result[0].reason and "pending" in result[0].reason
    assert "spillover" in result[1].reason


def test_no_candidates_leaves_everything_unplaced() -> None:
    assert split_replicas(3, [], ORDERED, True) == ([], 3)
