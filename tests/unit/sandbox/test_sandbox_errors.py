"""genai_sandbox's bad days, each a clear error within seconds and never a hang: no Go toolchain (the build
script and `genai-sandbox build`), an apiserver port in use, a component that exits while starting and one that
never becomes healthy (both with the tail of its log), missing binaries or stages; plus the fake nodes made from
an inventory file and the CLI's exit codes for bad arguments. None of it needs the real binaries.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from genai_sandbox import ControlPlane, ControlPlaneOptions, SandboxError
from genai_sandbox.binaries import BUILD_SCRIPT, COMPONENTS, Binaries, locate
from genai_sandbox.cli import main as sandbox_main
from genai_sandbox.nodes import KWOK_ANNOTATION, fake_nodes, read_inventory
from support.paths import ROOT


def _no_go_path(tmp_path: Path) -> str:
    """PATH with bash, python3 and the usual tools but no `go`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "python3", "sed", "cut", "date", "mkdir", "cat", "dirname", "tail", "ls", "env"):
        found = subprocess.run(["bash", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        if found:
            (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def test_the_build_script_says_go_is_missing(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PATH": _no_go_path(tmp_path)},
    )
    assert result.returncode == 1
    assert "Go is not installed" in result.stderr and "1.26" in result.stderr, result.stderr


def test_locating_the_binaries_without_go_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GENAI_CONTROL_PLANE_BIN", raising=False)
    monkeypatch.setenv("PATH", _no_go_path(tmp_path))
    with pytest.raises(SandboxError, match="Go is not installed"):
        locate()


def test_a_preset_bin_directory_missing_a_component_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "etcd").write_text("#!/bin/sh\n")
    (tmp_path / "etcd").chmod(0o755)
    monkeypatch.setenv("GENAI_CONTROL_PLANE_BIN", str(tmp_path))
    with pytest.raises(SandboxError, match="lacks kube-apiserver, kube-controller-manager, kube-scheduler, kwok"):
        locate()


def _fake_binaries(tmp_path: Path, script: str) -> Binaries:
    """Every component is `script` (a shell body); the stage files exist but are never read."""
    bin_dir = tmp_path / "fake" / "bin"
    bin_dir.mkdir(parents=True)
    for name in COMPONENTS:
        path = bin_dir / name
        path.write_text(f"#!/bin/sh\n{script}\n")
        path.chmod(0o755)
    stages = tmp_path / "fake" / "stages"
    stages.mkdir()
    (stages / "pod-ready.yaml").write_text("{}\n")
    return Binaries(bin_dir, sorted(stages.glob("*.yaml")))


def test_a_component_that_exits_while_starting_shows_its_log(tmp_path: Path) -> None:
    binaries = _fake_binaries(tmp_path, 'echo "fatal: --data-dir is not writable" >&2; exit 3')
    plane = ControlPlane(ControlPlaneOptions(workdir=tmp_path / "work", binaries=binaries, start_timeout=20))
    with pytest.raises(SandboxError) as error:
        plane.start()
    message = str(error.value)
    assert "etcd exited with code 3 while starting" in message
    assert "fatal: --data-dir is not writable" in message
    assert not any(c.running() for c in plane.components.values())


def test_a_component_that_never_becomes_healthy_times_out_with_its_log(tmp_path: Path) -> None:
    binaries = _fake_binaries(tmp_path, 'echo "waiting for a peer that never comes"; exec sleep 60')
    plane = ControlPlane(ControlPlaneOptions(workdir=tmp_path / "work", binaries=binaries, start_timeout=1.5))
    with pytest.raises(SandboxError) as error:
        plane.start()
    assert "etcd did not become healthy within 2s" in str(error.value)
    assert "waiting for a peer that never comes" in str(error.value)
    assert not any(c.running() for c in plane.components.values())  # stopped, not left behind


def test_an_apiserver_port_in_use_is_refused_before_anything_starts(tmp_path: Path) -> None:
    binaries = _fake_binaries(tmp_path, "exit 0")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        plane = ControlPlane(ControlPlaneOptions(workdir=tmp_path / "work", binaries=binaries, apiserver_port=port))
        with pytest.raises(SandboxError, match=f"kube-apiserver: port {port} on 127.0.0.1 is in use"):
            plane.start()
    assert plane.components == {}


def test_fake_nodes_keep_gpus_labels_and_taints_and_drop_what_a_cluster_stamped() -> None:
    inventory = read_inventory(ROOT / "examples" / "inventory" / "nodes.yaml")
    nodes = fake_nodes(inventory, copies=2)
    assert len(nodes) == 2 * len(inventory)
    names = [n["metadata"]["name"] for n in nodes]
    assert len(set(names)) == len(names)
    h100 = next(n for n in nodes if n["metadata"]["name"] == "ip-10-0-16-21.ec2.internal-c1")
    assert h100["metadata"]["labels"]["kubernetes.io/hostname"] == "ip-10-0-16-21.ec2.internal-c1"
    assert h100["metadata"]["annotations"][KWOK_ANNOTATION] == "fake"
    assert h100["status"]["allocatable"]["nvidia.com/gpu"] == "8"
    assert h100["spec"]["taints"][0]["key"] == "nvidia.com/gpu"
    assert "uid" not in h100["metadata"] and "resourceVersion" not in h100["metadata"]
    assert "podCIDR" not in h100["spec"]


def test_the_cli_refuses_bad_arguments_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert sandbox_main(["up", "--nodes", str(tmp_path / "missing.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err
    nodes = ROOT / "examples" / "inventory" / "nodes.yaml"
    assert sandbox_main(["up", "--nodes", str(nodes), "--copies", "0"]) == 2
    assert "--copies must be 1 or more" in capsys.readouterr().err
    help_text = subprocess.run([sys.executable, "-m", "genai_sandbox", "--help"], capture_output=True, text=True)
    assert help_text.returncode == 0 and "genai-sandbox up" in help_text.stdout
