"""The scale benchmark as a smoke test: `bench/run.py` at a small N, checked on its write bounds only.

Timing and memory are never asserted (the machine decides them as much as the code); the run fails on
more than children + 2 API writes per new ModelDeployment, or on any write during a resync.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]
FIELDS = {"n", "childrenPerObject", "convergeSeconds", "floorSeconds", "ratio", "createWritesPerObject",
          "resyncWrites", "peakRssBytes", "rssBytesPerObject", "startupSeconds"}


def test_bench_smoke_stays_within_write_bounds(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--sizes", "5", "--json", str(out),
         "--log-dir", str(tmp_path / "logs")],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    logs = "\n".join(p.read_text() for p in (tmp_path / "logs").glob("*.log"))
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}\n{logs[-4000:]}"
    results = json.loads(out.read_text())
    assert [r["n"] for r in results] == [5]
    result = results[0]
    assert set(result) >= FIELDS
    assert result["childrenPerObject"] == 2  # a Deployment and a Service per single-replica ModelDeployment
    assert result["createWritesPerObject"] <= result["childrenPerObject"] + 2
    assert result["floorWritesPerObject"] == result["childrenPerObject"] + 1
    assert result["resyncWrites"] == 0
    assert result["periodicResyncPasses"] >= 5  # the resync window did re-reconcile every object
    assert result["peakRssBytes"] > 0 and result["startupSeconds"] > 0
    assert "writes/obj" in proc.stdout  # the table


def test_bench_help_and_bad_sizes() -> None:
    run = [sys.executable, str(ROOT / "bench" / "run.py")]
    help_text = subprocess.run([*run, "--help"], capture_output=True, text=True, timeout=60, check=True).stdout
    assert "--sizes" in help_text and "--json" in help_text
    bad = subprocess.run([*run, "--sizes", "ten"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "comma-separated" in bad.stderr
