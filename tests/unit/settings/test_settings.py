"""The settings module, the one reader of GENAI_OPERATOR_* variables: every variable good, bad and missing
(a table that must cover every known name), empty counting as unset, several bad values reported together
in one error, and `genai-operator run` exiting 2 with that error before it connects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from genai_operator.api.enums import Engine
from genai_operator.cli.main import main
from genai_operator.settings import KNOWN_VARIABLES, LOADER_IMAGE, Settings, SettingsError


@dataclass(frozen=True)
class Case:
    """One variable: where its value lands in Settings, a good value and what it parses to, and a bad value
    with the words of its problem (None: every non-empty value is good)."""

    attribute: str
    missing: Any
    good: str
    parsed: Any
    bad: str | None = None
    problem: str = ""


CASES = {
    "IMAGE_VLLM": Case("images", {}, "mirror/vllm:1", {Engine.VLLM: "mirror/vllm:1"}),
    "IMAGE_LLAMACPP": Case("images", {}, "mirror/llama:1", {Engine.LLAMA_CPP: "mirror/llama:1"}),
    "IMAGE_TGI": Case("images", {}, "mirror/tgi:1", {Engine.TGI: "mirror/tgi:1"}),
    "IMAGE_SGLANG": Case("images", {}, "mirror/sglang:1", {Engine.SGLANG: "mirror/sglang:1"}),
    "IMAGE_TEI": Case("images", {}, "mirror/tei:1", {Engine.TEI: "mirror/tei:1"}),
    "LOADER_IMAGE": Case("loader_image", LOADER_IMAGE, "mirror/loader:1", "mirror/loader:1"),
    "PROMETHEUS_ADDRESS": Case(
        "prometheus_address", Settings().prometheus_address, "http://prom.obs:9090", "http://prom.obs:9090"
    ),
    "METRIC_QUERIES": Case(
        "metric_queries", {}, '{"QueueDepth": "sum(q)"}', {"QueueDepth": "sum(q)"}, '["sum(q)"]', "not a JSON object"
    ),
    "WAKE_QUERY": Case("wake_query", None, "sum(rate(r[2m]))", "sum(rate(r[2m]))"),
    "SERVICE_MONITORS": Case("service_monitors", True, "False", False, "no", "not true or false; set true or false"),
    "KEDA_ENABLED": Case("keda_enabled", True, "false", False, "off", "not true or false"),
    "DEFAULT_GPU_TYPES": Case(
        "default_gpu_types",
        Settings().default_gpu_types,
        "nvidia-l4, nvidia-t4",
        ("nvidia-l4", "nvidia-t4"),
        ",",
        "no GPU type",
    ),
    "OCI_MODELS": Case("oci_models", "Pull", "ImageVolume", "ImageVolume", "Mount", "set Pull or ImageVolume"),
    "HOST_PATH_PREFIXES": Case(
        "host_path_prefixes", (), "/opt/models,/data", ("/opt/models", "/data"), "/opt,models", "not absolute: models"
    ),
    "ALLOWED_IMAGE_REGISTRIES": Case("image_registries", (), "docker.io/vllm, ghcr.io", ("docker.io/vllm", "ghcr.io")),
    "WORKERS": Case("loop.workers", None, "12", 12, "2.5", "not a whole number; set a whole number, 1 or more"),
    "RESYNC_SECONDS": Case(
        "loop.resync_seconds", None, "2.5", 2.5, "abc", "not a number; set a positive number of seconds"
    ),
    "UNSCHEDULABLE_SECONDS": Case("loop.unschedulable_seconds", None, "0", 0.0, "-1", "negative"),
    "AUTOSCALED_UNSCHEDULABLE_SECONDS": Case(
        "loop.autoscaled_unschedulable_seconds", None, "900", 900.0, "nan", "finite"
    ),
    "RETURN_SECONDS": Case("loop.return_seconds", None, "60", 60.0, "soon", "not a number"),
    "LEASE_NAMESPACE": Case("loop.lease_namespace", None, "ops", "ops"),
    "LEASE_NAME": Case("loop.lease_name", None, "genai", "genai"),
}
BAD = {name: case for name, case in CASES.items() if case.bad is not None}


def value(settings: Settings, attribute: str) -> Any:
    found: Any = settings
    for part in attribute.split("."):
        found = getattr(found, part)
    return dict(found) if attribute in ("images", "metric_queries") else found


def test_the_table_covers_every_variable_the_settings_read() -> None:
    assert {f"GENAI_OPERATOR_{name}" for name in CASES} == KNOWN_VARIABLES


@pytest.mark.parametrize("name", list(CASES))
def test_a_good_value_is_parsed(name: str) -> None:
    case = CASES[name]
    assert value(Settings.from_env({f"GENAI_OPERATOR_{name}": case.good}), case.attribute) == case.parsed


@pytest.mark.parametrize("name", list(CASES))
def test_a_missing_or_empty_variable_keeps_the_default(name: str) -> None:
    case = CASES[name]
    assert value(Settings.from_env({}), case.attribute) == case.missing
    assert value(Settings.from_env({f"GENAI_OPERATOR_{name}": ""}), case.attribute) == case.missing


@pytest.mark.parametrize("name", list(BAD))
def test_a_bad_value_is_named_with_its_problem_and_fix(name: str) -> None:
    case = BAD[name]
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({f"GENAI_OPERATOR_{name}": str(case.bad)})
    (problem,) = raised.value.problems
    assert problem.startswith(f"GENAI_OPERATOR_{name}={case.bad}: ") and case.problem in problem
    assert "; set " in problem  # every problem says how to fix it


def test_every_bad_value_is_reported_together() -> None:
    env = {f"GENAI_OPERATOR_{name}": str(case.bad) for name, case in BAD.items()}
    env["GENAI_OPERATOR_WAKE_QUERY"] = "sum(up)"  # a good one among them stays quiet
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)
    assert sorted(p.split("=")[0] for p in raised.value.problems) == sorted(f"GENAI_OPERATOR_{name}" for name in BAD)
    assert str(raised.value).startswith(f"{len(BAD)} bad settings in the environment:\n  GENAI_OPERATOR_")


def test_run_exits_2_listing_every_bad_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GENAI_OPERATOR_RESYNC_SECONDS", "abc")
    monkeypatch.setenv("GENAI_OPERATOR_KEDA_ENABLED", "maybe")
    assert main(["run", "--kubeconfig", "/nonexistent/kubeconfig"]) == 2  # never gets to connect
    err = capsys.readouterr().err
    assert "error: 2 bad settings in the environment:" in err
    assert "GENAI_OPERATOR_RESYNC_SECONDS=abc: not a number; set a positive number of seconds" in err
    assert "GENAI_OPERATOR_KEDA_ENABLED=maybe: not true or false; set true or false" in err
