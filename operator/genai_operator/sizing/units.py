"""Arithmetic and labels of sizing: per-GPU shares rounded up, parameter counts as model cards write them.

Byte units and byte-size text are formats/quantity.py's (MIB, GIB, GB, gib_text).
"""

from __future__ import annotations


def ceil_div(numerator: int, denominator: int) -> int:
    """Integer division rounding up, so a per-GPU share never under-counts a byte."""
    return -(-numerator // denominator)


def parameters_label(parameters: int) -> str:
    """`70.6B`, `494M`, `1.5T`: three significant digits, the way model cards write counts."""
    for scale, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if parameters >= scale:
            return f"{parameters / scale:.3g}{suffix}"
    return str(parameters)
