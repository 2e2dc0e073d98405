"""Kubernetes quantities: parse the strings users write, format the bytes sizing computes.

Only the forms the API accepts (see QUANTITY_PATTERN in api/modeldeployment.py): a decimal number with an
optional m, k, M, G, T, Ki, Mi, Gi or Ti suffix.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

GIB = 1024**3
MIB = 1024**2

_SUFFIXES: dict[str, Decimal] = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "Ki": Decimal(1024),
    "Mi": Decimal(1024) ** 2,
    "Gi": Decimal(1024) ** 3,
    "Ti": Decimal(1024) ** 4,
}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")


def parse_quantity(text: str) -> Decimal:
    """The value of a quantity string ("500m" -> 0.5, "16Gi" -> 17179869184)."""
    match = _QUANTITY.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity such as 4, 500m or 16Gi")
    return Decimal(match.group(1)) * _SUFFIXES[match.group(2) or ""]


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
