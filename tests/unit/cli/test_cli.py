"""The genai-operator command line: plan (table and DESIGN.md section 5 JSON), render, crd, and exit code 2
with a message naming the file and field for bad input (unknown field, bad quantity, unknown precision,
YAML syntax error with its line, missing file, unknown GPU type).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from genai_operator.cli.main import main
from support.paths import ROOT
from support.plan_contract import PLAN_JSON_KEYS

EXAMPLES = ROOT / "examples"
NODES = EXAMPLES / "inventory" / "nodes.yaml"
POOLS = EXAMPLES / "inventory" / "pools.yaml"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, text: str, name: str = "md.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


GOOD = """\
apiVersion: genaiops.dev/v1alpha1
kind: ModelDeployment
metadata: {name: m, namespace: ns}
spec:
  model: {uri: hf://meta-llama/Llama-3.1-8B-Instruct}
  quantization: {precision: BF16}
"""


def test_plan_json_follows_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["plan", "-f", str(EXAMPLES), "--nodes", str(NODES), "--pools", str(POOLS), "-o", "json"], capsys
    )
    assert code == 0
    entries = json.loads(out)
    assert len(entries) == len(list(EXAMPLES.glob("*.yaml")))
    for entry in entries:
        assert set(entry) == PLAN_JSON_KEYS
        assert isinstance(entry["fits"], bool) and isinstance(entry["reasons"], list)
        assert all(set(p) == {"pool", "replicas"} for p in entry["placement"])
        if entry["fits"]:
            assert entry["weightsBytes"] > 0 and entry["totalBytesPerReplica"] >= entry["weightsBytes"]
    by_name = {e["name"]: e for e in entries}
    assert by_name["assistant"]["placement"] == [
        {"pool": "edge-orin", "replicas": 2},
        {"pool": "cloud-l4", "replicas": 1},
    ]
    assert by_name["qwen-edge"]["gpuType"] == "cpu" and by_name["qwen-edge"]["gpusPerReplica"] == 0


def test_plan_reports_what_does_not_fit_with_exit_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = GOOD.replace("Llama-3.1-8B-Instruct}", "Llama-3.1-405B-Instruct}\n  resources: {gpu: {types: [nvidia-l4]}}")
    code, out, _ = run(["plan", "-f", write(tmp_path, text), "-o", "json"], capsys)
    assert code == 0
    [entry] = json.loads(out)
    assert entry["fits"] is False
    assert "nvidia-l4" in entry["reasons"][0] and "Would fit" in " ".join(entry["reasons"])


def test_plan_table_lists_every_model(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["plan", "-f", str(EXAMPLES)], capsys)
    assert code == 0
    assert out.splitlines()[0].startswith("NAMESPACE/NAME")
    assert "ml/llama-8b" in out and "stores/qwen-edge" in out


def test_plan_reads_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(GOOD.encode())))
    code, out, _ = run(["plan", "-f", "-", "-o", "json"], capsys)
    assert code == 0 and json.loads(out)[0]["precision"] == "BF16"


BAD_INPUT = [
    (GOOD.replace("quantization:", "quantisation:"), "spec.quantisation: unknown field"),
    (GOOD.replace("BF16", "INT3"), "spec.quantization.precision"),
    (GOOD.replace("{uri:", "{parameters: 8 billion, uri:"), "spec.model.parameters"),
    (GOOD.replace("spec:\n", "spec:\n  replicas: [\n"), "YAML syntax error"),
    (GOOD.replace("hf://meta-llama/Llama-3.1-8B-Instruct", "hf://acme/secret-model"), "spec.model.parameters"),
    (GOOD + "  resources: {gpu: {types: [nvidia-tpu]}}\n", "spec.resources.gpu.types"),
]


@pytest.mark.parametrize(("text", "needle"), BAD_INPUT)
@pytest.mark.parametrize("command", ["plan", "render"])
def test_bad_input_exits_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, text: str, needle: str
) -> None:
    path = write(tmp_path, text)
    code, out, err = run([command, "-f", path], capsys)
    assert code == 2, (out, err)
    assert needle in err and (path in err or "ns/m" in err)


def test_yaml_error_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD.replace("spec:\n", "spec:\n  replicas: [\n"))
    _, _, err = run(["plan", "-f", path], capsys)
    assert f"{path}:" in err and "YAML syntax error" in err
    line = int(err.split(f"{path}:")[1].split(":")[0])
    assert 6 <= line <= 9


def test_missing_file_and_empty_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["plan", "-f", str(tmp_path / "nope.yaml")], capsys)
    assert code == 2 and "no such file" in err
    code, _, err = run(["plan", "-f", write(tmp_path, "kind: ConfigMap\napiVersion: v1\n")], capsys)
    assert code == 2 and "no ModelDeployment" in err


def test_bad_nodes_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["plan", "-f", write(tmp_path, GOOD), "--nodes", write(tmp_path, GOOD, "n.yaml")], capsys)
    assert code == 2 and "kubectl get nodes -o yaml" in err


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("GENAI_OPERATOR_OCI_MODELS", "Mount", "OCI_MODELS=Mount: not a mode of oci:// models; set Pull"),
        ("GENAI_OPERATOR_WORKERS", "0", "GENAI_OPERATOR_WORKERS=0: not positive; set a whole number"),
    ],
)
def test_a_bad_setting_in_the_environment_exits_2_naming_it(
    variable: str, value: str, words: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(variable, value)
    code, _, err = run(["run", "--kubeconfig", "/nonexistent/kubeconfig"], capsys)  # never gets to connect
    assert code == 2 and words in err, err
    if variable.endswith("OCI_MODELS"):
        code, _, err = run(["render", "-f", str(EXAMPLES)], capsys)
        assert code == 2 and words in err, err


def test_crd_prints_the_checked_in_files(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["crd"], capsys)
    assert code == 0
    names = [d["metadata"]["name"] for d in yaml.safe_load_all(out)]
    assert names == ["modeldeployments.genaiops.dev", "placementpools.genaiops.dev"]
    for name in names:
        assert (ROOT / "crds" / f"{name}.yaml").read_text() in out


def test_console_script_and_module_entry_points() -> None:
    for cmd in (["genai-operator", "--help"], [sys.executable, "-m", "genai_operator", "plan", "--help"]):
        exe = Path(sys.executable).parent / cmd[0] if cmd[0] == "genai-operator" else None
        argv = [str(exe), *cmd[1:]] if exe else cmd
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        assert done.returncode == 0 and "usage:" in done.stdout
    done = subprocess.run([sys.executable, "-m", "genai_operator", "plan"], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "-f/--filename" in done.stderr


def test_render_shows_the_backend_the_spec_asks_for(capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 16: backend KEDA renders a ScaledObject without --keda, and stderr says what render assumed."""
    code, out, err = run(["render", "-f", str(EXAMPLES / "qwen-7b-scale-to-zero.yaml")], capsys)
    assert code == 0
    kinds = [d["kind"] for d in yaml.safe_load_all(out) if d]
    assert "ScaledObject" in kinds and "HorizontalPodAutoscaler" not in kinds
    assert "render assumed: ml/qwen-7b: KEDA is installed (scaling.backend: KEDA)" in err
    code, out, err = run(["render", "-f", str(EXAMPLES / "llama-3b-autoscaled-hybrid.yaml")], capsys)
    kinds = [d["kind"] for d in yaml.safe_load_all(out) if d]
    assert "HorizontalPodAutoscaler" in kinds and "KEDA is not installed (pass --keda if it is)" in err
    code, out, err = run(["render", "--keda", "-f", str(EXAMPLES / "llama-3b-autoscaled-hybrid.yaml")], capsys)
    assert "ScaledObject" in [d["kind"] for d in yaml.safe_load_all(out) if d]


def test_a_decimal_cost_unquoted_says_to_quote_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pools = tmp_path / "pools.yaml"
    pools.write_text(
        "apiVersion: genaiops.dev/v1alpha1\nkind: PlacementPool\nmetadata: {name: p}\n"
        "spec: {tier: Cloud, costPerGpuHour: 0.8}\n"
    )
    code, _, err = run(["plan", "-f", str(EXAMPLES), "--pools", str(pools)], capsys)
    assert code == 2
    assert (
        'spec.costPerGpuHour: 0.8 is a number, but this field is a string: quote it, e.g. costPerGpuHour: "0.8"' in err
    )


def test_the_demo_without_its_extra_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An operator install has no kmock (the `demo` extra): the demo exits 2 with the install line."""
    monkeypatch.setitem(sys.modules, "kmock", None)  # a None entry makes `import kmock` raise ImportError
    assert main(["demo"]) == 2
    assert "pip install 'genai-operator[demo]'" in capsys.readouterr().err


def test_an_operator_install_does_not_load_the_emulator() -> None:
    """`genai-operator run`'s imports (the controller and Kopf setup) never pull in the emulator or kmock."""
    code = (
        "import sys, genai_operator.cli.main, genai_operator.controller.kopf_setup; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('kmock', 'genai_emulator')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
