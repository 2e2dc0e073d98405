"""Where the control-plane binaries are: built (or found cached) by scripts/control-plane/build.sh.

`GENAI_CONTROL_PLANE_BIN` points at a directory that already holds them (and skips the build script).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from genai_sandbox.errors import SandboxError

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO_ROOT / "scripts" / "control-plane" / "build.sh"
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


@dataclass(frozen=True)
class Binaries:
    directory: Path
    stages: list[Path]

    def path(self, component: str) -> str:
        return str(self.directory / component)


def _collect(directory: Path) -> Binaries:
    missing = [c for c in COMPONENTS if not os.access(directory / c, os.X_OK)]
    if missing:
        raise SandboxError(f"{directory} lacks {', '.join(missing)}: run bash {BUILD_SCRIPT}")
    stages = sorted((directory.parent / "stages").glob("*.yaml"))
    if not stages:
        raise SandboxError(f"no kwok stages in {directory.parent / 'stages'}: run bash {BUILD_SCRIPT}")
    return Binaries(directory, stages)


def locate(*, build: bool = True) -> Binaries:
    """The binaries, building them first when `build` is set and they are not cached yet."""
    preset = os.environ.get("GENAI_CONTROL_PLANE_BIN")
    if preset:
        return _collect(Path(preset))
    if not BUILD_SCRIPT.exists():
        raise SandboxError(
            "set GENAI_CONTROL_PLANE_BIN to a directory with the control-plane binaries "
            "(this installation has no scripts/control-plane/build.sh)"
        )
    if not build:
        raise SandboxError(f"the control plane is not built: run bash {BUILD_SCRIPT}")
    if shutil.which("go") is None:
        raise SandboxError(
            "Go is not installed: the real control plane is built from Go modules (need Go 1.26 or newer on PATH)"
        )
    # The build prints progress on stderr (passed through) and the bin directory on its last stdout line.
    result = subprocess.run(["bash", str(BUILD_SCRIPT)], stdout=subprocess.PIPE, text=True, check=False)
    if result.returncode != 0:
        raise SandboxError(f"building the control plane failed (bash {BUILD_SCRIPT}; its messages are above)")
    return _collect(Path(result.stdout.strip().splitlines()[-1]))
