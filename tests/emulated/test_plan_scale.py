"""The planning benchmark (`bench/plan_scale.py`) as a smoke test at a small size: the synthetic inventory
and models are well-formed, the figures are consistent (GPUs used between the lower bound and the
inventory, every replica accounted for), and the whole command runs on YAML and JSON files. No timing
is asserted: the machine decides it as much as the code.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support.paths import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import plan_scale


def test_synthetic_inventory_has_the_advertised_mix() -> None:
    nodes = plan_scale.synthetic_nodes(400, seed=3)
    labels = [n["metadata"]["labels"] for n in nodes]
    assert any("node-role.kubernetes.io/edge" in lb for lb in labels)
    assert any("apps.openyurt.io/nodepool" in lb for lb in labels)
    assert any("amd.com/gpu.product-name" in lb for lb in labels)
    assert any(lb.get("nvidia.com/gpu.product", "").endswith("-SHARED") for lb in labels)
    assert any(n["spec"].get("unschedulable") for n in nodes)
    assert plan_scale.synthetic_nodes(50, seed=3) == plan_scale.synthetic_nodes(50, seed=3)  # deterministic


def test_small_run_reports_consistent_figures() -> None:
    figures = plan_scale.run(models=60, nodes=300, seed=3, replicas_scale=2)
    summary = figures["summary"]
    assert figures["pools"] > 10 and set(figures["seconds"]) == {"nodeView", "buildPools", "plan", "total"}
    assert 0 < summary["gpusBound"] <= summary["gpusUsed"] <= summary["gpusTotal"]
    assert summary["modelsFitting"] <= summary["models"] == 60
    assert summary["onNodes"] + summary["waiting"] + summary["pending"] > 0
    assert summary["line"].startswith("GPUs used ")


def test_command_line(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "plan_scale.py"),
            "--models",
            "20",
            "--nodes",
            "80",
            "--cli",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "20 models" in done.stdout and "lower bound" in done.stdout and "as JSON" in done.stdout
    assert '"cliJSON"' in out.read_text()
