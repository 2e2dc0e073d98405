"""The benchmark's table, the per-trial ratios, its targets, and the bounds that fail a run (API writes only,
never timing). The figures are already combined over the trials (bench/trials.py): medians of the times,
the worst trial's writes and memory, so a bound exceeded in any trial fails the run."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

MB = 1024 * 1024
# Targets of issue 7. Only the write bounds fail a run: timing and memory depend on the machine.
RATIO_TARGET = 1.5
RSS_TARGET_BYTES = 200 * MB
EXTRA_CREATE_WRITES = 2  # status writes allowed per new ModelDeployment beyond its children

COLUMNS = (
    ("N", "n", "{:d}"),
    ("children/obj", "childrenPerObject", "{:.1f}"),
    ("converge s", "convergeSeconds", "{:.2f}"),
    ("floor s", "floorSeconds", "{:.2f}"),
    ("ratio", "ratio", "{:.2f}"),
    ("writes/obj", "createWritesPerObject", "{:.2f}"),
    ("events/obj", "createEventsPerObject", "{:.2f}"),
    ("resync writes", "resyncWrites", "{:d}"),
    ("peak RSS MB", "peakRssBytes", "mb"),
    ("RSS/obj KB", "rssBytesPerObject", "kb"),
    ("startup s", "startupSeconds", "{:.2f}"),
)


def _cell(fmt: str, value: Any) -> str:
    if fmt == "mb":
        return f"{value / MB:.1f}"
    if fmt == "kb":
        return f"{value / 1024:.1f}"
    return fmt.format(value)


def table(results: Sequence[dict[str, Any]]) -> str:
    rows = [[title for title, _, _ in COLUMNS]]
    rows += [[_cell(fmt, r.get(key, 0)) for _, key, fmt in COLUMNS] for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def trial_ratios(results: Sequence[dict[str, Any]]) -> list[str]:
    """One line per size: the ratio of each trial (operator trial i over floor trial i) and their median."""
    lines = []
    for r in results:
        ratios = " ".join(f"{x:.2f}" for x in r.get("ratios", [r["ratio"]]))
        lines.append(f"N={r['n']} ratios: {ratios} (median {r['ratio']:.2f})")
    return lines


def bound_failures(results: Sequence[dict[str, Any]]) -> list[str]:
    """What fails the run: more than children + 2 writes per new object (in the worst trial), or any write on resync."""
    failures = []
    for r in results:
        limit = r["childrenPerObject"] + EXTRA_CREATE_WRITES
        if r["createWritesPerObject"] > limit:
            failures.append(
                f"N={r['n']}: {r['createWritesPerObject']:.2f} writes per new ModelDeployment "
                f"(bound {limit:.1f}): {r.get('createWritesByVerb')}"
            )
        if r["resyncWrites"] > 0:
            failures.append(
                f"N={r['n']}: {r['resyncWrites']} write(s) on resync (bound 0): "
                f"startup {r.get('startupWritesByVerb')}, periodic {r.get('periodicResyncWritesByVerb')}"
            )
    return failures


def target_notes(results: Sequence[dict[str, Any]]) -> list[str]:
    """Timing and memory targets, reported (never failing: the machine decides them as much as the code)."""
    notes = []
    for r in results:
        if r["ratio"] > RATIO_TARGET:
            notes.append(f"N={r['n']}: convergence {r['ratio']:.2f}x the floor (target {RATIO_TARGET}x)")
        if r["peakRssBytes"] > RSS_TARGET_BYTES:
            notes.append(f"N={r['n']}: peak RSS {r['peakRssBytes'] / MB:.0f} MB (target < 200 MB)")
    # Flat means "does not grow with N"; at small N the fixed cost of a burst (queues, pools) still shows.
    per_object = [(r["n"], r["rssBytesPerObject"]) for r in sorted(results, key=lambda r: r["n"]) if r["n"] >= 100]
    for (n1, small), (n2, large) in itertools.pairwise(per_object):
        if large > 1.25 * small + 4096:
            notes.append(
                f"memory per object grows with N: {small / 1024:.0f} KB at N={n1}, {large / 1024:.0f} KB at N={n2}"
            )
    return notes


def marginal_rss(results: Sequence[dict[str, Any]]) -> list[str]:
    """Memory per additional object between consecutive sizes: the slope, free of fixed costs."""
    lines = []
    ordered = sorted(results, key=lambda r: r["n"])
    for a, b in itertools.pairwise(ordered):
        grown = (b["createPeakRssBytes"] - b["baselineRssBytes"]) - (a["createPeakRssBytes"] - a["baselineRssBytes"])
        lines.append(f"N={a['n']}->{b['n']}: {grown / (b['n'] - a['n']) / 1024:.1f} KB per additional object")
    return lines
