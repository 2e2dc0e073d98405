"""Quantities as the engines and builders write them; parsing is the package-wide genai_operator.formats.quantity."""

from __future__ import annotations

import math
from decimal import Decimal

from genai_operator.formats.quantity import parse_quantity

GIB = 1024**3

__all__ = ["GIB", "cores", "gib", "parse_quantity", "plain_number"]


def plain_number(value: Decimal) -> str:
    """A decimal as a plain string without exponent or trailing zeros (KEDA parses thresholds as floats)."""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def gib(n_bytes: int) -> str:
    """Bytes rounded up to whole GiB, as a quantity: requests never undershoot the estimate."""
    return f"{max(1, math.ceil(n_bytes / GIB))}Gi"


def cores(text: str) -> int:
    """Whole CPU cores of a CPU quantity, at least one ("500m" -> 1, "2.5" -> 3)."""
    return max(1, math.ceil(parse_quantity(text)))
