"""spec.model.loadFormat and download.connections (ModelDeployment) and spec.download.connections
(PlacementPool): each rule rejects in the CRD (CEL and schema bounds on the defaulted object) and in the models
alike, naming the field and the fix; valid streams (s3:// and gs:// on VLLM or Auto) and Copy are admitted; the
CLI exits 2 on a bad stream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from genai_operator.api.crdgen import model_deployment_crd, placement_pool_crd
from genai_operator.api.model_loading import MSG_STREAM_ENGINE, MSG_STREAM_SOURCE, LoadFormat
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.placementpool import PlacementPool
from genai_operator.cli.main import main
from support.crd_validation import admission_errors, assert_rejected_alike

S3 = "s3://models/llama-3.1-8b"


def manifest(uri: str = S3, engine: str = "VLLM", **model: Any) -> dict[str, Any]:
    return {
        "apiVersion": "genaiops.dev/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": "m", "namespace": "ns"},
        "spec": {"model": {"uri": uri, "parameters": "8B", **model}, "engine": engine},
    }


def pool(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "genaiops.dev/v1alpha1",
        "kind": "PlacementPool",
        "metadata": {"name": "p"},
        "spec": {"tier": "Cloud", **spec},
    }


INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("stream from the Hub", manifest("hf://meta-llama/Llama-3.1-8B", loadFormat="Stream"), MSG_STREAM_SOURCE),
    ("stream from a claim", manifest("pvc://weights/llama", loadFormat="Stream"), MSG_STREAM_SOURCE),
    ("stream on SGLang", manifest(engine="SGLang", loadFormat="Stream"), MSG_STREAM_ENGINE),
    ("stream on TGI", manifest("gs://b/m", engine="TGI", loadFormat="Stream"), MSG_STREAM_ENGINE),
    ("no connections", manifest(download={"connections": 0}), "connections"),
    ("too many connections", manifest(download={"connections": 65}), "connections"),
    ("unknown format", manifest(loadFormat="Mmap"), "loadFormat"),
]


@pytest.mark.parametrize(("case", "obj", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_bad_load_settings_are_rejected_in_crd_and_models_alike(case: str, obj: dict[str, Any], message: str) -> None:
    assert_rejected_alike(model_deployment_crd(), obj, message, case)


VALID: list[dict[str, Any]] = [
    manifest(loadFormat="Stream"),
    manifest("gs://models/llama", engine="Auto", loadFormat="Stream", download={"connections": 64}),
    manifest("hf://meta-llama/Llama-3.1-8B", engine="SGLang", loadFormat="Copy", download={"connections": 1}),
]


@pytest.mark.parametrize("obj", VALID)
def test_valid_load_settings_are_admitted(obj: dict[str, Any]) -> None:
    assert admission_errors(model_deployment_crd(), obj) == []
    ModelDeployment.model_validate(obj)


def test_copy_is_the_default_and_connections_are_unset() -> None:
    source = ModelDeployment.model_validate(manifest()).spec.model
    assert source.load_format == LoadFormat.COPY and not source.streamed and source.download is None


@pytest.mark.parametrize(("connections", "ok"), [(1, True), (64, True), (0, False), (65, False)])
def test_pool_download_connections_are_bounded(connections: int, ok: bool) -> None:
    obj = pool(download={"connections": connections})
    assert (admission_errors(placement_pool_crd(), obj) == []) is ok
    if ok:
        assert PlacementPool.model_validate(obj).spec.download is not None
    else:
        with pytest.raises(ValidationError):
            PlacementPool.model_validate(obj)


def test_cli_exits_2_naming_the_field_and_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "apiVersion: genaiops.dev/v1alpha1\nkind: ModelDeployment\nmetadata: {name: m, namespace: ns}\n"
        "spec:\n  model: {uri: 'hf://meta-llama/Llama-3.1-8B', loadFormat: Stream}\n",
        encoding="utf-8",
    )
    assert main(["render", "-f", str(path)]) == 2
    assert MSG_STREAM_SOURCE in capsys.readouterr().err
