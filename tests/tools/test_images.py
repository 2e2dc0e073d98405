"""The operator image (images/operator/Dockerfile) without a Docker engine: hadolint finds nothing; the
Dockerfile is multi-stage, its base pinned by digest, its final stage has no build tools and runs as the
numeric non-root user the chart's securityContext names; the build context its .dockerignore lets through
(pyproject.toml, README.md, operator/) builds the same package the tests install, whose CLI then runs from
a read-only install writing nothing (as under readOnlyRootFilesystem); the build script attaches an SBOM
and provenance when it pushes. The model loader image (images/loader/Dockerfile) likewise: hadolint finds nothing,
same pinned base, numeric non-root user, no pip, only the loader package in its build context, which runs from a
read-only copy writing nothing. The kind-based suite in tests/e2e/ builds and runs the images for real.
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

from support.chart import ROOT, helm_template, of_kind, run, tool

pytestmark = pytest.mark.tools

DOCKERFILE = ROOT / "images" / "operator" / "Dockerfile"
DOCKERIGNORE = ROOT / "images" / "operator" / "Dockerfile.dockerignore"
BUILD_SCRIPT = ROOT / "images" / "build.sh"
TEXT = DOCKERFILE.read_text(encoding="utf-8")
LOADER_DOCKERFILE = ROOT / "images" / "loader" / "Dockerfile"
LOADER_DOCKERIGNORE = ROOT / "images" / "loader" / "Dockerfile.dockerignore"
LOADER_TEXT = LOADER_DOCKERFILE.read_text(encoding="utf-8")


def instructions(text: str = TEXT) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def stages(text: str = TEXT) -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for instruction in instructions(text):
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


@pytest.mark.parametrize("dockerfile", [DOCKERFILE, LOADER_DOCKERFILE], ids=["operator", "loader"])
def test_hadolint_finds_nothing(dockerfile: Path) -> None:
    result = run([tool("hadolint"), "--format", "json", str(dockerfile)], check=False)
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


def _context_files(dockerignore: Path = DOCKERIGNORE) -> list[Path]:
    """What the Dockerfile's .dockerignore lets into the build context (its `*` + `!` whitelist)."""
    patterns = [p.strip() for p in dockerignore.read_text().splitlines() if p.strip() and not p.startswith("#")]
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
    assert {"pyproject.toml", "README.md", "operator/genai_operator/cli/main.py"} <= rel
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
    installed = sorted(
        p.relative_to(install / "genai_operator").as_posix()
        for p in (install / "genai_operator").rglob("*")
        if p.is_file()
    )
    source = sorted(
        p.relative_to(ROOT / "operator" / "genai_operator").as_posix()
        for p in (ROOT / "operator" / "genai_operator").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert installed == source  # the whole package, data files included: the same package the tests use

    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    snapshot = sorted(p.as_posix() for p in install.rglob("*"))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "PYTHONPATH": str(install),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    script = (
        f"{sys.executable} -c 'import genai_operator, genai_operator.controller.kopf_setup; "
        f'assert genai_operator.__file__.startswith("{install}"), genai_operator.__file__\' && '
        f"{sys.executable} -m genai_operator --version && "
        f"{sys.executable} -m genai_operator crd >/dev/null && "
        f"{sys.executable} -m genai_operator render -f {ROOT / 'examples' / 'llama-8b-bf16-l4.yaml'}"
    )
    read_only = (
        subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False).returncode == 0
        if shutil.which("unshare")
        else False
    )
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


def test_loader_image_is_pinned_non_root_and_has_no_pip() -> None:
    def base(text: str) -> str:
        return dict(a.split("=", 1) for k, a in instructions(text) if k == "ARG" and "=" in a)["PYTHON_IMAGE"]

    assert base(LOADER_TEXT) == base(TEXT)  # the same pinned base as the operator: one digest to bump
    built = stages(LOADER_TEXT)
    assert len(built) == 2 and all(stage[0][1].split()[0] == "${PYTHON_IMAGE}" for stage in built)
    final = built[-1]
    (user,) = [a for k, a in final if k == "USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and gid.isdigit() and int(uid) >= 10000 and int(gid) != 0
    assert user == next(a for k, a in stages()[-1] if k == "USER")  # the operator's user
    (entrypoint,) = [a for k, a in final if k == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["python", "-m", "genai_model_loader"]
    runs = [a for k, a in final if k == "RUN"]
    assert runs and all(a.startswith("python -m pip uninstall --yes") for a in runs), "the final stage installs nothing"
    assert [a for k, a in final if k == "COPY"] == ["--from=build /opt/genai-model-loader /opt/genai-model-loader"]
    env = " ".join(a for k, a in final if k == "ENV")
    assert "PYTHONPATH=/opt/genai-model-loader" in env and "PYTHONDONTWRITEBYTECODE=1" in env
    assert not re.search(r"pip install|apt-get|apk add|gcc|build-essential", LOADER_TEXT)
    script = BUILD_SCRIPT.read_text(encoding="utf-8")
    assert "images/loader/Dockerfile" in script and re.search(r"^\s*loader\)", script, re.M)


def test_loader_build_context_runs_from_a_read_only_copy_writing_nothing(tmp_path: Path) -> None:
    package = ROOT / "loader" / "genai_model_loader"
    files = _context_files(LOADER_DOCKERIGNORE)
    assert sorted(p.relative_to(package).as_posix() for p in files) == sorted(
        p.relative_to(package).as_posix() for p in package.glob("*.py")
    )
    version = re.search(r'^version = "(.*)"', (ROOT / "pyproject.toml").read_text(), re.M)
    assert version and f'__version__ = "{version.group(1)}"' in (package / "__init__.py").read_text()
    # As the build stage does: the package under /opt, compiled to hash-based bytecode, then read-only.
    opt = tmp_path / "opt"
    for path in files:
        target = opt / "genai_model_loader" / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    run([sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(opt)])
    model = tmp_path / "model"
    model.mkdir()
    (model / "m.Q4_K_M.gguf").write_bytes(b"GGUF")
    for path in opt.rglob("*"):
        path.chmod(0o555 if path.is_dir() else 0o444)
    snapshot = sorted(p.as_posix() for p in tmp_path.rglob("*"))
    work = tmp_path / "work"
    work.mkdir(mode=0o555)
    plan = json.dumps([{"name": "model", "uri": "pvc://models/m", "dest": str(model), "mode": "verify"}])
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(opt),
        "PYTHONSAFEPATH": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "HOME": str(work),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "genai_model_loader",
            "--plan",
            plan,
            "--termination-log",
            str(work / "termination-log"),
        ],
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "model: verified" in result.stderr
    termination = work / "termination-log"  # /dev/termination-log in a pod: the one line the operator reads
    assert termination.read_text().startswith("CacheHit: model in place")
    assert sorted(p.as_posix() for p in tmp_path.rglob("*") if p not in (work, termination)) == snapshot, (
        "the run wrote files"
    )
