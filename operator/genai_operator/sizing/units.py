"""Byte units and the human formatting used in sizing reasons.

Bytes stay ints everywhere; these helpers only convert at the edges (DESIGN.md §4: file listings use
decimal GB, drivers MiB, PyTorch GiB).
"""

from __future__ import annotations

KIB = 1024
MIB = 1024**2
GIB = 1024**3
GB = 10**9


def ceil_div(numerator: int, denominator: int) -> int:
    """Integer division rounding up, so a per-GPU share never under-counts a byte."""
    return -(-numerator // denominator)


def gib(num_bytes: int) -> str:
    """`141.1 GiB`: one decimal, the unit PyTorch and vLLM print in their memory logs."""
    return f"{num_bytes / GIB:.1f} GiB"


def parameters_label(parameters: int) -> str:
    """`70.6B`, `494M`, `1.5T`: three significant digits, the way model cards write counts."""
    for scale, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if parameters >= scale:
            return f"{parameters / scale:.3g}{suffix}"
    return str(parameters)
