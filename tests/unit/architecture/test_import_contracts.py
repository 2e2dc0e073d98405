"""The architecture's import-linter contracts (pyproject.toml, [tool.importlinter]): they hold on the tree, and a
deliberate violation of each kind (I/O in a pure layer, Kopf outside the controller, a lower layer importing a
higher one, the emulator importing the product) makes `lint-imports` fail naming the broken contract."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.paths import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{tree / 'operator'}{os.pathsep}{tree / 'loader'}"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=tree, env=env, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def tree_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("tree")
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    shutil.copytree(ROOT / "operator", tree / "operator", ignore=ignore)
    shutil.copytree(ROOT / "loader", tree / "loader", ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def test_the_contracts_hold_on_the_tree() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("genai_operator/render/names.py", "import aiohttp", "Pure layers do no I/O"),
        ("genai_operator/status/conditions.py", "from genai_operator.kube import session", "Pure layers do no I/O"),
        ("genai_operator/kube/client.py", "import kopf", "Only the controller package imports Kopf"),
        ("genai_operator/sizing/units.py", "from genai_operator.planning import plan", "The operator's layers"),
        ("genai_emulator/store.py", "import genai_operator.api.enums", "are independent of each other"),
    ],
)
def test_a_deliberate_violation_fails(tree_copy: Path, module: str, line: str, contract: str) -> None:
    path = tree_copy / "operator" / module
    original = path.read_text(encoding="utf-8")
    path.write_text(original + f"\n{line}  # deliberate violation\n", encoding="utf-8")
    try:
        result = lint_imports(tree_copy)
    finally:
        path.write_text(original, encoding="utf-8")
    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in " ".join(broken.split()), result.stdout
