"""Kubernetes resource quantities ("500m", "16Gi", "1e3") as exact fractions.

Exact arithmetic matters: a node with 8 cpu fits sixteen 500m pods, and float rounding
would make the last one 'Insufficient cpu'.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

_SUFFIXES: dict[str, Fraction] = {
    "": Fraction(1),
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 1000),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
    "Ki": Fraction(2**10),
    "Mi": Fraction(2**20),
    "Gi": Fraction(2**30),
    "Ti": Fraction(2**40),
    "Pi": Fraction(2**50),
    "Ei": Fraction(2**60),
}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([KMGTPE]i|[numkMGTPE])?$")

# Whole quantities are plain ints (exact, and ~50x faster than Fractions in the scheduler's inner loop);
# fractional ones ("500m" cpu) stay Fractions. Both mix exactly in arithmetic and comparisons.
Quantity = Fraction | int
Resources = dict[str, Quantity]


def parse_quantity(value: Any) -> Quantity:
    if isinstance(value, bool):
        raise ValueError(f"not a quantity: {value!r}")
    if isinstance(value, int | float):
        return _whole(Fraction(Decimal(str(value))))
    return _parse_text(str(value))


def _whole(number: Fraction) -> Quantity:
    return int(number) if number.denominator == 1 else number


@functools.lru_cache(maxsize=4096)
def _parse_text(text: str) -> Quantity:
    """Memoized (Fractions are immutable): the scheduler re-reads every node's and pod's quantities on
    every pass, and parsing them was most of the emulator's CPU with 500 pods on 200 nodes."""
    value = text
    match = _QUANTITY.match(text.strip())
    if match is None:
        raise ValueError(f"not a quantity: {value!r}")
    try:
        number = Fraction(Decimal(match[1]))
    except InvalidOperation as exc:
        raise ValueError(f"not a quantity: {value!r}") from exc
    return _whole(number * _SUFFIXES[match[2] or ""])


def parse_resources(values: Mapping[str, Any] | None) -> Resources:
    result: Resources = {}
    for key, value in (values or {}).items():
        try:
            result[str(key)] = parse_quantity(value)
        except ValueError:
            continue  # an unparsable quantity is rejected by a real apiserver; here it counts as 0
    return result


def add_resources(total: Resources, extra: Mapping[str, Quantity]) -> None:
    for key, value in extra.items():
        total[key] = total.get(key, 0) + value
