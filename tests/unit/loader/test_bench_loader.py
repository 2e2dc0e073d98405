"""The loader benchmark (bench/loader.py with its fake Hub, bench/fake_hub.py) as a smoke test: a 64 MiB model
fetched by our loader and by huggingface_hub's snapshot_download against the same throttled fake Hub, checked for
the JSON contract (limitBytesPerSecond, loaderSeconds, referenceSeconds, ratioToLimit, ratioToReference, bytes)
with positive numbers. No timing is asserted: machines are noisy, the benchmark prints the ratios."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from support.paths import ROOT

KEYS = ("limitBytesPerSecond", "loaderSeconds", "referenceSeconds", "ratioToLimit", "ratioToReference", "bytes")


def test_a_small_benchmark_run_writes_the_json_contract(tmp_path: Path) -> None:
    pytest.importorskip("huggingface_hub")
    out = tmp_path / "results.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "loader.py"),
            "--size-gib",
            "0.0625",
            "--shard-mib",
            "16",
            "--per-connection-mib",
            "32",
            "--total-mib",
            "128",
            "--latency-ms",
            "5",
            "--probe-seconds",
            "1",
            "--dir",
            str(tmp_path),
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(out.read_text())
    for key in KEYS:
        assert isinstance(results[key], int | float) and not isinstance(results[key], bool), key
        assert results[key] > 0, key
    assert results["bytes"] >= 64 * 1024 * 1024
    assert "ratio to limit" in done.stdout and "huggingface_hub" in done.stdout
