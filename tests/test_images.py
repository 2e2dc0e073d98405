"""The operator image (images/operator/Dockerfile) without a Docker engine: hadolint finds nothing; the
Dockerfile is multi-stage, its base pinned by digest, its final stage has no build tools and runs as the
numeric non-root user the chart's securityContext names; the build context its .dockerignore lets through
(pyproject.toml, README.md, operator/) builds the same package the tests install, whose CLI then runs from
a read-only install writing nothing (as under readOnlyRootFilesystem); the build script attaches an SBOM
and provenance when it pushes. The kind-based suite in tests/e2e/ builds and runs the image for real.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from chart_support import ROOT, helm_template, of_kind, run, tool

pytestmark = pytest.mark.tools

DOCKERFILE = ROOT / "images" / "operator" / "Dockerfile"
DOCKERIGNORE = ROOT / "images" / "operator" / "Dockerfile.dockerignore"
BUILD_SCRIPT = ROOT / "images" / "build.sh"
TEXT = DOCKERFILE.read_text(encoding="utf-8")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", TEXT)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def test_hadolint_finds_nothing() -> None:
    result = run([tool("hadolint"), "--format", "json", str(DOCKERFILE)], check=False)
    findings = json.loads(result.stdout or "[]")
    assert findings == [] and result.returncode == 0, findings


def test_base_image_is_pinned_by_digest_and_multi_stage() -> None:
    args = dict(a.split("=", 1) for k, a in instructions() if k == "ARG" and "=" in a)
    base = args["PYTHON_IMAGE"]
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-bookworm)?@sha256:[0-9a-f]{64}", base), base
    built = stages()
    assert len(built) >= 2
    assert all(stage[0][1].split()[0] == "${PYTHON_IMAGE}" for stage in built)


def test_final_stage_is_non_root_and_carries_no_build_tools() -> None:
    final = stages()[-1]
    runs = [a for k, a in final if k == "RUN"]
    assert all(a.startswith("python -m pip uninstall --yes") for a in runs), "the final stage installs nothing"
    copies = [a for k, a in final if k == "COPY"]
    assert copies == ["--from=build /opt/venv /opt/venv"]
    (user,) = [a for k, a in final if k == "USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) >= 10000 and gid.isdigit()
    # The chart runs the pod as exactly this user.
    container = of_kind(helm_template(), "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]
    assert container["securityContext"]["runAsUser"] == int(uid)
    (entrypoint,) = [a for k, a in final if k == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["genai-operator"] and container["args"][0] == "run"
    build = " ".join(a for k, a in stages()[0] if k == "RUN")
    assert "pip uninstall --yes pip" in build  # no installer left in the copied virtualenv
    assert "--only-binary=:all:" in build  # nothing compiled, so no compiler needed in any stage
    assert not re.search(r"apt-get|apk add|gcc|build-essential", TEXT)


def _context_files() -> list[Path]:
    """What the Dockerfile's .dockerignore lets into the build context (its `*` + `!` whitelist)."""
    patterns = [p.strip() for p in DOCKERIGNORE.read_text().splitlines() if p.strip() and not p.startswith("#")]
    included = []
    for path in sorted(ROOT.rglob("*")):
        rel = path.relative_to(ROOT).as_posix()
        if not path.is_file() or rel.startswith((".venv/", ".git/", ".cache/")):
            continue
        keep = False
        for pattern in patterns:
            negate = pattern.startswith("!")
            pat = pattern.lstrip("!").rstrip("/").replace("**/", "*")
            if fnmatch.fnmatch(rel, pat) or rel.startswith(pat + "/") or fnmatch.fnmatch(rel, pat + "/*"):
                keep = negate
        if keep:
            included.append(path)
    return included


def test_build_context_builds_the_tested_package_which_runs_read_only(tmp_path: Path) -> None:
    context = tmp_path / "context"
    files = _context_files()
    rel = {p.relative_to(ROOT).as_posix() for p in files}
    assert {"pyproject.toml", "README.md", "operator/genai_operator/cli.py"} <= rel
    assert not any(r.startswith(("tests/", "charts/", "bench/")) or "__pycache__" in r for r in rel)
    for path in files:
        target = context / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    wheels = tmp_path / "wheels"
    run([*pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(context)], timeout=300)
    (wheel,) = wheels.glob("genai_operator-*.whl")
    install = tmp_path / "install"
    run([*pip, "install", "--quiet", "--no-deps", "--no-compile", "--target", str(install), str(wheel)])
    installed = sorted(p.relative_to(install / "genai_operator").as_posix()
                       for p in (install / "genai_operator").rglob("*") if p.is_file())
    source = sorted(p.relative_to(ROOT / "operator" / "genai_operator").as_posix()
                    for p in (ROOT / "operator" / "genai_operator").rglob("*")
                    if p.is_file() and "__pycache__" not in p.parts)
    assert installed == source  # the whole package, data files included: the same package the tests use

    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    snapshot = sorted(p.as_posix() for p in install.rglob("*"))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "PYTHONPATH": str(install),
           "PYTHONDONTWRITEBYTECODE": "1"}
    script = (f"{sys.executable} -c 'import genai_operator, genai_operator.runner; "
              f"assert genai_operator.__file__.startswith(\"{install}\"), genai_operator.__file__' && "
              f"{sys.executable} -m genai_operator --version && "
              f"{sys.executable} -m genai_operator crd >/dev/null && "
              f"{sys.executable} -m genai_operator render -f {ROOT / 'examples' / 'llama-8b-bf16-l4.yaml'}")
    read_only = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False).returncode == 0 \
        if shutil.which("unshare") else False
    if read_only:  # mount the install read-only, as the image's root filesystem is in the pod
        script = f"mount --bind {install} {install} && mount -o remount,bind,ro {install} && {script}"
        command = ["unshare", "-m", "sh", "-c", script]
    else:
        command = ["sh", "-c", script]
    result = subprocess.run(command, capture_output=True, text=True, cwd=work, env=env, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    rendered = [d for d in yaml.safe_load_all(result.stdout.split("\n", 1)[1]) if d]
    assert {d["kind"] for d in rendered} >= {"Deployment", "Service"}
    assert sorted(p.as_posix() for p in install.rglob("*")) == snapshot, "the run wrote into the install"
    assert list(home.iterdir()) == [] and list(work.iterdir()) == [], "the run wrote files"


def test_build_script_pushes_with_an_sbom_and_provenance() -> None:
    text = BUILD_SCRIPT.read_text(encoding="utf-8")
    assert "--sbom=true" in text and "--provenance=" in text and "--push" in text
    assert "images/operator/Dockerfile" in text
    assert subprocess.run(["bash", "-n", str(BUILD_SCRIPT)], check=False).returncode == 0
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^image-push:", makefile, re.M) and "images/build.sh --push" in makefile
