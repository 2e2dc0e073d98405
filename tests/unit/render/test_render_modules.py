"""Render module structure: the Deployment and StatefulSet builders share the pod template module and
import neither each other nor the bundle that picks between them (no import cycle, eager or lazy)."""

from __future__ import annotations

import ast
from pathlib import Path

import genai_operator.render as render

RENDER = Path(render.__file__).parent


def imported_modules(module: str) -> set[str]:
    """Every module the file imports, at the top or inside a function."""
    tree = ast.parse((RENDER / f"{module}.py").read_text())
    return {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module} | {
        alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    }


def test_deployment_and_statefulset_do_not_import_each_other() -> None:
    deployment, statefulset = imported_modules("deployment"), imported_modules("statefulset")
    assert "genai_operator.render.statefulset" not in deployment
    assert "genai_operator.render.deployment" not in statefulset
    for imports in (deployment, statefulset):
        assert "genai_operator.render.pod_template" in imports
        assert "genai_operator.render.bundle" not in imports
