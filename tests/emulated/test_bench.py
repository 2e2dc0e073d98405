"""The scale benchmark as a smoke test: `bench/run.py` at a small N with two trials, checked on its write bounds
only; its command line (a bad --sizes or --repeat exits 2); and how the trials of a size are combined
(bench/trials.py: medians of the times, the worst trial's writes and memory), on made-up trials; and the
comparison of two results files (bench/compare.py: a write bound that rose fails it, timing never does).

Timing and memory are never asserted (the machine decides them as much as the code); the run fails on
more than children + 2 API writes per new ModelDeployment in any trial, or on any write during a resync.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support.paths import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import compare
import trials

FIELDS = {
    "n",
    "childrenPerObject",
    "convergeSeconds",
    "floorSeconds",
    "ratio",
    "createWritesPerObject",
    "resyncWrites",
    "peakRssBytes",
    "rssBytesPerObject",
    "startupSeconds",
}


@pytest.mark.integration
def test_bench_smoke_stays_within_write_bounds(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--sizes",
            "5",
            "--repeat",
            "2",
            "--json",
            str(out),
            "--log-dir",
            str(tmp_path / "logs"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    logs = "\n".join(p.read_text() for p in (tmp_path / "logs").glob("*.log"))
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}\n{logs[-4000:]}"
    results = json.loads(out.read_text())
    assert [r["n"] for r in results] == [5]
    result = results[0]
    assert set(result) >= FIELDS
    assert result["trials"] == 2 and len(result["ratios"]) == 2
    assert len(result["floorTrialsSeconds"]) == 2 and len(result["convergeTrialsSeconds"]) == 2
    assert result["childrenPerObject"] == 2  # a Deployment and a Service per single-replica ModelDeployment
    assert result["createWritesPerObject"] <= result["childrenPerObject"] + 2
    assert result["floorWritesPerObject"] == result["childrenPerObject"] + 1
    assert result["resyncWrites"] == 0
    assert result["periodicResyncPasses"] >= 5  # the resync window did re-reconcile every object
    assert result["peakRssBytes"] > 0 and result["startupSeconds"] > 0
    assert "writes/obj" in proc.stdout  # the table
    assert "N=5 ratios: " in proc.stdout  # one line of per-trial ratios per size


@pytest.mark.integration
def test_bench_help_and_bad_arguments() -> None:
    run = [sys.executable, str(ROOT / "bench" / "run.py")]
    help_text = subprocess.run([*run, "--help"], capture_output=True, text=True, timeout=60, check=True).stdout
    assert "--sizes" in help_text and "--json" in help_text and "--repeat" in help_text
    bad = subprocess.run([*run, "--sizes", "ten"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "comma-separated" in bad.stderr
    no_trials = subprocess.run([*run, "--sizes", "5", "--repeat", "0"], capture_output=True, text=True, timeout=60)
    assert no_trials.returncode == 2 and "--repeat" in no_trials.stderr


def _floor(seconds: float) -> dict[str, Any]:
    return {"seconds": seconds, "children": 2.0, "writesPerObject": 3.0, "cpuSeconds": 1.0, "emulatorCpuSeconds": 1.0}


def _operator(seconds: float, writes: int, peak: int, *, restart: bool = False) -> dict[str, Any]:
    op: dict[str, Any] = {
        "convergeSeconds": seconds,
        "convergeCpuSeconds": seconds,
        "convergeEmulatorCpuSeconds": 1.0,
        "createReconcilesPerObject": 1.0,
        "createWrites": writes,
        "createWritesByVerb": {"create deployments": writes},
        "createClusterWrites": 0,
        "createEvents": 10,
        "createRequestsByVerb": {},
        "baselineRssBytes": 1000,
        "createPeakRssBytes": peak,
        "settledRssBytes": peak,
    }
    if restart:
        op.update(startupSeconds=1.5, startupWrites=0, periodicResyncWrites=0, startupPeakRssBytes=1500)
    return op


def test_trials_combine_medians_of_times_and_the_worst_trial_of_writes_and_memory() -> None:
    floors = [_floor(4.0), _floor(8.0), _floor(5.0)]
    ops = [_operator(6.0, 30, 2000, restart=True), _operator(10.0, 45, 9000), _operator(9.0, 30, 3000)]
    result = trials.combine(10, 4, floors, ops).to_json()
    assert result["trials"] == 3 and result["ratios"] == [1.5, 1.25, 1.8]
    assert result["floorTrialsSeconds"] == [4.0, 8.0, 5.0] and result["convergeTrialsSeconds"] == [6.0, 10.0, 9.0]
    assert (result["floorSeconds"], result["convergeSeconds"], result["ratio"]) == (5.0, 9.0, 1.5)
    assert result["convergeCpuSeconds"] == 9.0
    # The worst trial's writes, so a bound exceeded in any trial fails the run; memory likewise.
    assert result["createWritesPerObject"] == 4.5 and result["createWritesByVerb"] == {"create deployments": 45}
    assert result["peakRssBytes"] == 9000 and result["rssBytesPerObject"] == 800.0
    assert result["startupSeconds"] == 1.5 and result["resyncWrites"] == 0  # the first trial's restart
    with pytest.raises(ValueError, match="as many floor trials"):
        trials.combine(10, 4, floors, ops[:2])


def _result(n: int, **overrides: float) -> dict[str, Any]:
    base = {
        "n": n,
        "convergeSeconds": 4.0,
        "floorSeconds": 3.0,
        "ratio": 1.33,
        "createWritesPerObject": 4.0,
        "resyncWrites": 0,
        "peakRssBytes": 110 * 1024 * 1024,
        "rssBytesPerObject": 70 * 1024,
        "startupSeconds": 1.7,
    }
    return {**base, **overrides}


def test_compare_calls_out_write_regressions_and_only_large_timing_changes() -> None:
    before = [_result(100), _result(500)]
    noisy = [_result(100, convergeSeconds=4.4), _result(500, ratio=1.2)]  # within 25%
    lines, notes, worse = compare.compare(before, noisy, 0.25)
    assert not worse and notes == [] and len(lines) == 1 + 2 * len(compare.METRICS)
    slower = [_result(100, convergeSeconds=6.0), _result(500)]
    _, notes, worse = compare.compare(before, slower, 0.25)
    assert not worse and notes == ["N=100: converge s worse by 50%"]
    chattier = [_result(100), _result(500, createWritesPerObject=5.0, resyncWrites=3)]
    _, notes, worse = compare.compare(before, chattier, 0.25)
    assert worse and notes == [
        "N=500: writes/obj rose from 4 to 5 (a bound, not noise)",
        "N=500: resync writes rose from 0 to 3 (a bound, not noise)",
    ]


def test_compare_command_exit_codes(tmp_path: Path) -> None:
    before, after, broken = tmp_path / "before.json", tmp_path / "after.json", tmp_path / "broken.json"
    before.write_text(json.dumps([_result(10)]))
    after.write_text(json.dumps([_result(10, resyncWrites=1)]))
    broken.write_text("{")
    run = [sys.executable, str(ROOT / "bench" / "compare.py")]
    same = subprocess.run([*run, str(before), str(before)], capture_output=True, text=True, timeout=60)
    assert same.returncode == 0 and "writes/obj" in same.stdout
    regressed = subprocess.run([*run, str(before), str(after)], capture_output=True, text=True, timeout=60)
    assert regressed.returncode == 1 and "resync writes rose from 0 to 1" in regressed.stdout
    unreadable = subprocess.run([*run, str(before), str(broken)], capture_output=True, text=True, timeout=60)
    assert unreadable.returncode == 2 and "error:" in unreadable.stderr
