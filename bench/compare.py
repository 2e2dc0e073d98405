"""Compare two results.json files of bench/run.py (say, main and a branch): a row per size and metric with
the change, and the changes worth a look called out.

    python bench/compare.py before.json after.json

Writes per object and resync writes are contracts, so any rise is called out; times, the ratio and memory
move with the machine (trials vary by +-30% on a shared 2-core VM), so only a change beyond
--tolerance (default 25%) is. The exit code is 1 when a write bound got worse, else 0: timing alone never
fails it, for the same reason the benchmark itself does not.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# (key, label, lower is better, a contract: any rise is a regression)
METRICS = (
    ("convergeSeconds", "converge s", True, False),
    ("floorSeconds", "floor s", True, False),
    ("ratio", "ratio", True, False),
    ("createWritesPerObject", "writes/obj", True, True),
    ("resyncWrites", "resync writes", True, True),
    ("peakRssBytes", "peak RSS MB", True, False),
    ("rssBytesPerObject", "RSS/obj KB", True, False),
    ("startupSeconds", "startup s", True, False),
)
SCALE = {"peakRssBytes": 1024 * 1024, "rssBytesPerObject": 1024}


def compare(
    before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]], tolerance: float
) -> tuple[list[str], list[str], bool]:
    """(table lines, notes, whether a contract got worse) for the sizes both files have."""
    old = {r["n"]: r for r in before}
    new = {r["n"]: r for r in after}
    lines = [f"{'N':>4}  {'metric':<14} {'before':>10} {'after':>10} {'change':>8}"]
    notes: list[str] = []
    worse = False
    for n in sorted(set(old) & set(new)):
        for key, label, lower_better, contract in METRICS:
            if key not in old[n] or key not in new[n]:
                continue
            a, b = float(old[n][key]) / SCALE.get(key, 1), float(new[n][key]) / SCALE.get(key, 1)
            change = (b - a) / a if a else (0.0 if b == a else float("inf"))
            lines.append(f"{n:>4}  {label:<14} {a:>10.2f} {b:>10.2f} {_percent(change):>8}")
            got_worse = b > a if lower_better else b < a
            if contract and got_worse:
                worse = True
                notes.append(f"N={n}: {label} rose from {a:g} to {b:g} (a bound, not noise)")
            elif not contract and abs(change) > tolerance:
                notes.append(f"N={n}: {label} {'worse' if got_worse else 'better'} by {abs(change):.0%}")
    missing = sorted(set(old) ^ set(new))
    if missing:
        notes.append(f"sizes in only one file: {', '.join(map(str, missing))}")
    return lines, notes, worse


def _percent(change: float) -> str:
    return "inf" if change == float("inf") else f"{change:+.0%}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare two results.json files of bench/run.py.")
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument(
        "--tolerance",
        type=float,
        default=0.25,
        help="relative change of times, ratio or memory worth a note (default 0.25)",
    )
    args = parser.parse_args(argv)
    try:
        before, after = (json.loads(path.read_text(encoding="utf-8")) for path in (args.before, args.after))
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    lines, notes, worse = compare(before, after, args.tolerance)
    print("\n".join(lines))
    for note in notes:
        print(f"note: {note}")
    return 1 if worse else 0


if __name__ == "__main__":
    sys.exit(main())
