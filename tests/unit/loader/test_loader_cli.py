"""The model loader's command line (loader/genai_model_loader/cli.py, plan.py, verify_mode.py, local_files.py):
a bad --plan exits 2 with a clear message; every uri is read before anything is fetched (InvalidSource, exit 1);
verify mode accepts a mounted model and fails with NoModelFiles naming the path and what was expected; file://
is copied; the termination-log line stays under 1024 bytes and an unwritable log is ignored; the package uses
the standard library only; and the real `python -m genai_model_loader` runs end to end against the local server.
"""

from __future__ import annotations

import ast
import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from genai_model_loader.cli import _from_os_error, main
from genai_model_loader.errors import Reason
from support.loader_http import FakeRemote, model_files, run_loader
from support.paths import ROOT

PACKAGE = ROOT / "loader" / "genai_model_loader"


@pytest.mark.parametrize(
    ("plan", "message"),
    [
        (
            "{not json",
            "InvalidPlan: --plan is not JSON (Expecting property name enclosed in double quotes at line 1 column 2)",
        ),
        ("[]", "InvalidPlan: --plan must be a non-empty JSON list of items"),
        ('{"name": "model"}', "InvalidPlan: --plan must be a non-empty JSON list of items"),
        ('["x"]', "InvalidPlan: --plan item 0 must be a JSON object, not str"),
        (
            '[{"name": "model", "uri": "hf://a/b"}]',
            "InvalidPlan: --plan item 0 (model): dest must be a non-empty string",
        ),
        (
            '[{"name": "model", "uri": "hf://a/b", "dest": "cache/x"}]',
            "InvalidPlan: --plan item 0 (model): dest must be an absolute path, not 'cache/x'",
        ),
        (
            '[{"name": "model", "uri": "hf://a/b", "dest": "/c/x", "mode": "copy"}]',
            "InvalidPlan: --plan item 0 (model): mode must be 'fetch' or 'verify', not 'copy'",
        ),
        (
            '[{"name": "model", "uri": "hf://a/b", "dest": "/c/x", "keep": 0}]',
            "InvalidPlan: --plan item 0 (model): keep must be a positive integer, not 0",
        ),
        (
            '[{"name": "weights", "uri": "hf://a/b", "dest": "/c/x"}]',
            "InvalidPlan: --plan item 0 (weights): name must be 'model' or 'adapter:<name>', not 'weights'",
        ),
        (
            '[{"name": "model", "uri": "hf://a/b", "dest": "/c/x"}, '
            '{"name": "adapter:a", "uri": "hf://a/c", "dest": "/c/x"}]',
            "InvalidPlan: --plan: two items share dest /c/x",
        ),
    ],
)
def test_a_bad_plan_exits_2_with_a_clear_message(tmp_path: Path, plan: str, message: str) -> None:
    outcome = run_loader(plan, tmp_path)
    assert outcome.code == 2
    assert outcome.termination == message + "\n"
    assert f"ERROR {message}" in outcome.stderr


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "the following arguments are required: --plan" in capsys.readouterr().err
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("genai-model-loader ")


def test_every_uri_is_read_before_anything_is_fetched(tmp_path: Path) -> None:
    with FakeRemote() as hub:
        hub.add_repo("org/llm", {"config.json": b"{}", "model.safetensors": b"w"})
        plan = [
            {"name": "model", "uri": "hf://org/llm", "dest": str(tmp_path / "m")},
            {"name": "adapter:sql", "uri": "hf:/org/typo", "dest": str(tmp_path / "a")},
        ]
        outcome = run_loader(plan, tmp_path, {"HF_ENDPOINT": hub.url})
        assert hub.requests == []
    assert outcome.code == 1
    assert outcome.termination == (
        "InvalidSource: adapter:sql hf:/org/typo: cannot read the uri: it has no scheme; write "
        "hf://org/repo[@revision], hf://org/repo/path/file.gguf[@revision], s3://bucket/prefix, gs://bucket/prefix, "
        "oci://[registry/]repo[:tag][@sha256:<digest>] or file:///path\n"
    )


def test_pvc_uris_in_fetch_mode_say_how_the_operator_passes_them(tmp_path: Path) -> None:
    outcome = run_loader([{"name": "model", "uri": "pvc://models/llama", "dest": str(tmp_path / "m")}], tmp_path)
    assert outcome.code == 1
    assert outcome.termination.startswith(
        "InvalidSource: model pvc://models/llama: pvc:// sources are mounted by the operator, not fetched"
    )


def test_unknown_plan_keys_are_ignored_with_a_warning(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "m.gguf").write_bytes(b"g")
    outcome = run_loader(
        [{"name": "model", "uri": source.as_uri(), "dest": str(source / "m.gguf"), "mode": "verify", "future": 1}],
        tmp_path,
    )
    assert outcome.code == 0, outcome.stderr
    assert "--plan item 0 (model): ignoring unknown keys future" in outcome.stderr


def mounted_model(root: Path, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True)
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return root


@pytest.mark.parametrize(
    ("name", "files", "extra"),
    [
        (
            "model",
            {"config.json": b"{}", "model-00001-of-00002.safetensors": b"w", "model-00002-of-00002.safetensors": b"w"},
            {},
        ),
        ("model", {"config.json": b"{}", "pytorch_model.bin": b"w"}, {}),
        ("model", {"llama.Q4_K_M.gguf": b"g", "README.md": b""}, {}),
        (
            "model",
            {"q/llama-Q5_K_M-00001-of-00002.gguf": b"g", "q/llama-Q5_K_M-00002-of-00002.gguf": b"g"},
            {"ggufType": "Q5_K_M"},
        ),
        ("model", {"sub/one.gguf": b"g"}, {"file": "sub/one.gguf"}),
        ("adapter:sql", {"adapter_config.json": b"{}", "adapter_model.safetensors": b"a"}, {}),
    ],
)
def test_verify_mode_accepts_a_mounted_model(
    tmp_path: Path, name: str, files: dict[str, bytes], extra: dict[str, str]
) -> None:
    root = mounted_model(tmp_path / "model-source" / "llama", files)
    outcome = run_loader(
        [{"name": name, "uri": "pvc://models/llama", "dest": str(root), "mode": "verify", **extra}], tmp_path
    )
    assert outcome.code == 0, outcome.stderr
    assert f"INFO {name}: verified {root}" in outcome.stderr
    assert not any(p.name.startswith(".genai") for p in root.iterdir())  # verify writes nothing


@pytest.mark.parametrize(
    ("name", "files", "extra", "problem", "expected"),
    [
        ("model", None, {}, "does not exist", "config.json plus *.safetensors or *.bin, or a *.gguf file"),
        (
            "model",
            {"config.json": b"{}", "README.md": b""},
            {},
            "holds README.md, config.json",
            "config.json plus *.safetensors or *.bin, or a *.gguf file",
        ),
        (
            "model",
            {"model.safetensors": b"w"},
            {},
            "holds model.safetensors",
            "config.json plus *.safetensors or *.bin, or a *.gguf file",
        ),
        (
            "adapter:sql",
            {"adapter_model.safetensors": b"a"},
            {},
            "has no adapter_config.json",
            "adapter_config.json (a PEFT adapter)",
        ),
        (
            "model",
            {"m.Q8_0.gguf": b"g"},
            {"ggufType": "Q4_K_M"},
            "lacks it (no .gguf file of type Q4_K_M; the source "
            "has Q8_0; set spec.quantization.ggufType to one of them)",
            "a .gguf file of type Q4_K_M",
        ),
    ],
)
def test_verify_mode_fails_with_no_model_files(
    tmp_path: Path, name: str, files: dict[str, bytes] | None, extra: dict[str, str], problem: str, expected: str
) -> None:
    root = tmp_path / "model-source" / "llama"
    if files is not None:
        mounted_model(root, files)
    outcome = run_loader(
        [{"name": name, "uri": "pvc://models/llama", "dest": str(root), "mode": "verify", **extra}], tmp_path
    )
    assert outcome.code == 1
    assert outcome.termination == (
        f"NoModelFiles: {name} pvc://models/llama: {root} {problem}; expected {expected}; "
        "check the volume's contents and the path in the uri\n"
    )


def test_file_uris_are_copied_into_the_cache(tmp_path: Path) -> None:
    source = mounted_model(
        tmp_path / "model-source" / "llama",
        {"config.json": b"{}", "model.safetensors": os.urandom(5000), "sub/tokenizer.json": b"{}", ".git/HEAD": b"x"},
    )
    dest = tmp_path / "cache" / "llama"
    outcome = run_loader([{"name": "model", "uri": source.as_uri(), "dest": str(dest)}], tmp_path)
    assert outcome.code == 0, outcome.stderr
    assert sorted(model_files(dest)) == ["config.json", "model.safetensors", "sub/tokenizer.json"]
    assert (dest / "model.safetensors").read_bytes() == (source / "model.safetensors").read_bytes()
    assert json.loads((dest / ".genai-complete").read_text())["uri"] == source.as_uri()
    missing = run_loader([{"name": "model", "uri": "file:///model-source/nope", "dest": str(tmp_path / "x")}], tmp_path)
    assert missing.termination == (
        "NotFound: model file:///model-source/nope: /model-source/nope does not exist; "
        "check that the volume is mounted and the path inside it\n"
    )


def test_file_system_errors_become_reasons_with_the_fix() -> None:
    denied = _from_os_error(PermissionError(errno.EACCES, "Permission denied", "/model-cache/x.lock"))
    assert denied.reason is Reason.FORBIDDEN
    assert denied.detail == (
        "cannot write /model-cache/x.lock (Permission denied); the cache volume must be "
        "writable by the pod's user (set the pod's fsGroup)"
    )
    assert _from_os_error(OSError(errno.EDQUOT, "Disk quota exceeded")).reason is Reason.NO_SPACE
    assert _from_os_error(OSError(errno.EIO, "I/O error")).reason is Reason.NETWORK_ERROR


def test_the_termination_line_is_cut_at_1024_bytes_and_an_unwritable_log_is_ignored(tmp_path: Path) -> None:
    long_uri = "pvc://models/" + "é" * 2000
    outcome = run_loader([{"name": "model", "uri": long_uri, "dest": str(tmp_path / "m"), "mode": "verify"}], tmp_path)
    assert outcome.code == 1
    assert len(outcome.termination.encode()) <= 1024 and outcome.termination.endswith("\n")
    assert outcome.termination.startswith("NoModelFiles: model pvc://models/éé")
    plan = json.dumps([{"name": "model", "uri": "hf:/x", "dest": "/m"}])
    assert main(["--plan", plan, "--termination-log", str(tmp_path / "no" / "such" / "dir")], env={}) == 1


def test_the_package_uses_the_standard_library_only() -> None:
    for module in PACKAGE.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else []
            )
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top in ("genai_model_loader", "__future__"), (module, name)
        assert len(module.read_text().splitlines()) <= 300, module


def test_python_m_genai_model_loader_end_to_end(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    plan = [
        {"name": "model", "uri": "hf://org/llm", "dest": str(cache / "llm"), "mode": "fetch"},
        {"name": "adapter:sql", "uri": "s3://adapters/sql", "dest": str(cache / "sql")},
    ]
    with FakeRemote() as fake:
        fake.add_repo(
            "org/llm", {"config.json": b"{}", "model.safetensors": os.urandom(70_000), "tokenizer.json": b"{}"}
        )
        fake.add_bucket("adapters", {"sql/adapter_config.json": b"{}", "sql/adapter_model.safetensors": b"a" * 999})
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT / "loader"),
            "HF_ENDPOINT": fake.url,
            "AWS_ENDPOINT_URL": fake.url,
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "genai_model_loader",
                "--plan",
                json.dumps(plan),
                "--termination-log",
                str(tmp_path / "termination"),
            ],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "model: fetched 3 files, 68.4 KiB in " in result.stderr
    assert "adapter:sql: fetched 2 files, 1001 B in " in result.stderr
    assert sorted(model_files(cache / "sql")) == ["adapter_config.json", "adapter_model.safetensors"]
    # Success is one line too, which the operator shows in ModelLoaded; a second run is all cache hits.
    assert (tmp_path / "termination").read_text().startswith("Fetched: model, adapter:sql downloaded")
    assert sorted(tmp_path.iterdir()) == [cache, tmp_path / "termination"]
    assert sorted(p.name for p in cache.iterdir()) == ["llm", "llm.lock", "sql", "sql.lock"]
