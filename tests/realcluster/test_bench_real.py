"""`bench/run.py --cluster real` as a smoke test at a small N: a fresh control plane per phase, requests counted
from the apiserver's audit log, the control plane's CPU reported next to the operator's, and the write bounds
held (children + 2 writes per new ModelDeployment, none on a resync). Timing is never asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cluster_support import ROOT
from genai_sandbox import ControlPlane


def test_the_benchmark_runs_on_the_real_control_plane_within_its_write_bounds(
    control_plane: ControlPlane, tmp_path: Path
) -> None:
    # `control_plane` only for the binaries and the tier's skip/fail rules; the benchmark starts its own.
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--cluster",
            "real",
            "--sizes",
            "4",
            "--repeat",
            "1",
            "--json",
            str(out),
            "--log-dir",
            str(tmp_path / "logs"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    logs = "\n".join(p.read_text(errors="replace")[-3000:] for p in (tmp_path / "logs").glob("*.log"))
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr[-4000:]}\n{logs}"
    result = json.loads(out.read_text())[0]
    assert result["cluster"] == "real" and result["n"] == 4
    assert result["childrenPerObject"] == 2  # a Deployment and a Service per single-replica ModelDeployment
    assert result["floorWritesPerObject"] == result["childrenPerObject"] + 1
    assert 2 <= result["createWritesPerObject"] <= result["childrenPerObject"] + 2
    assert result["resyncWrites"] == 0
    assert {"kube-apiserver", "etcd"} <= set(result["convergeBackendCpu"])
    assert result["convergeBackendCpu"]["kube-apiserver"] > 0
    assert {"kube-apiserver", "etcd"} <= set(result["floorBackendCpu"])
