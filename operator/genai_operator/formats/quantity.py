"""Kubernetes resource quantities ("500m", "16Gi", "8") as integers: millicores and bytes."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

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


def format_bytes_as_quantity(size: int) -> str:
    """Bytes rounded up to a whole Mi or Gi, the way people write memory requests."""
    gib = 2**30
    mib = 2**20
    if size >= gib and size % gib == 0:
        return f"{size // gib}Gi"
    return f"{-(-size // mib)}Mi"


def gib(size: int) -> str:
    """A byte count as GiB with one decimal, for messages."""
    return f"{size / 2**30:.1f} GiB"
