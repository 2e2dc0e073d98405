"""Kubernetes resource quantities ("500m", "16Gi", "8") and byte sizes, read and written in one place.

Reading: a quantity as a Decimal, bytes or millicores. Writing: bytes as a request quantity rounded up to
whole GiB ("2Gi"), bytes as text for messages ("1.5 GiB"), whole CPU cores of a CPU quantity, and a plain
decimal for thresholds. Bytes stay ints everywhere else (DESIGN.md: file listings use decimal GB, drivers
MiB, PyTorch GiB).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

MIB = 1024**2
GIB = 1024**3
GB = 10**9

_SUFFIXES: dict[str, Decimal] = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")


def parse_quantity(value: str | int | float) -> Decimal:
    """The numeric value of a quantity; raises ValueError naming the bad input."""
    if isinstance(value, int | float):
        return Decimal(str(value))
    match = _QUANTITY.match(value.strip())
    if not match:
        raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 500m, 4, 16Gi)")
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. 500m, 4, 16Gi)") from None
    return number * _SUFFIXES[match.group(2) or ""]


def to_bytes(value: str | int | float) -> int:
    return int(parse_quantity(value))


def to_millicores(value: str | int | float) -> int:
    return int(parse_quantity(value) * 1000)


def whole_cores(cpu: str) -> int:
    """Whole CPU cores of a CPU quantity, at least one ("500m" -> 1, "2.5" -> 3)."""
    return max(1, math.ceil(parse_quantity(cpu)))


def gi_quantity(num_bytes: int) -> str:
    """Bytes rounded up to whole GiB, as a quantity ("2Gi"): requests never undershoot the estimate."""
    return f"{max(1, math.ceil(num_bytes / GIB))}Gi"


def gib_text(num_bytes: int) -> str:
    """Bytes as GiB with one decimal, for messages ("141.1 GiB", the unit PyTorch and vLLM log in)."""
    return f"{num_bytes / GIB:.1f} GiB"


def plain_number(value: Decimal) -> str:
    """A decimal as a plain string without exponent or trailing zeros (KEDA parses thresholds as floats)."""
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
