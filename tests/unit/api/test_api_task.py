"""spec.task and the engines it allows: every task rule rejects in the CRD (CEL on the defaulted object) and in
the models alike with the message naming the fix; valid combinations (SGLang with adapters, TEI for embedding
and reranking, Auto for any task) are admitted by both."""

from __future__ import annotations

from typing import Any

import pytest

from genai_operator.api.crdgen import model_deployment_crd
from genai_operator.api.enums import Engine, Task
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.task import MSG_ADAPTERS, MSG_ENGINE, MSG_QUANT, MSG_TEI
from support.crd_validation import admission_errors, assert_rejected_alike

ADAPTERS = [{"name": "sql", "uri": "hf://acme/sql-lora"}]


def manifest(uri: str = "hf://BAAI/bge-small-en-v1.5", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "genaiops.dev/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": "m", "namespace": "ns"},
        "spec": {"model": {"uri": uri}, **spec},
    }


INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("embedding on vLLM", manifest(task="TextEmbedding", engine="VLLM"), MSG_ENGINE),
    ("reranking on llama.cpp", manifest(task="Reranking", engine="LlamaCpp"), MSG_ENGINE),
    ("embedding on SGLang", manifest(task="TextEmbedding", engine="SGLang"), MSG_ENGINE),
    ("TEI for chat", manifest("hf://Qwen/Qwen2.5-7B-Instruct", engine="TEI"), MSG_TEI),
    ("quantized encoder", manifest(task="TextEmbedding", quantization={"precision": "INT8"}), MSG_QUANT),
    ("AWQ encoder", manifest(task="Reranking", quantization={"method": "AWQ"}), MSG_QUANT),
    ("encoder with adapters", manifest(task="TextEmbedding", adapters=ADAPTERS), MSG_ADAPTERS),
    ("TGI with adapters", manifest("hf://x/y", engine="TGI", adapters=ADAPTERS), "vLLM or SGLang"),
]


@pytest.mark.parametrize(("case", "obj", "message"), INVALID, ids=[c[0] for c in INVALID])
def test_task_rules_reject_in_crd_and_models_alike(case: str, obj: dict[str, Any], message: str) -> None:
    assert_rejected_alike(model_deployment_crd(), obj, message, case)


VALID: list[dict[str, Any]] = [
    manifest(task="TextEmbedding"),
    manifest(task="Reranking", engine="TEI", quantization={"precision": "FP16"}),
    manifest("hf://Qwen/Qwen2.5-7B-Instruct", engine="SGLang", adapters=ADAPTERS),
    manifest("hf://Qwen/Qwen2.5-7B-Instruct", engine="SGLang", quantization={"precision": "FP8"}),
]


@pytest.mark.parametrize("obj", VALID)
def test_valid_task_and_engine_combinations_are_admitted(obj: dict[str, Any]) -> None:
    assert admission_errors(model_deployment_crd(), obj) == []
    ModelDeployment.model_validate(obj)


def test_task_defaults_to_text_generation_and_engines_are_listed() -> None:
    md = ModelDeployment.model_validate(manifest("hf://x/y"))
    assert md.spec.task == Task.TEXT_GENERATION
    schema = model_deployment_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert schema["properties"]["task"]["enum"] == ["TextGeneration", "TextEmbedding", "Reranking"]
    assert {"SGLang", "TEI"} <= set(schema["properties"]["engine"]["enum"])
    assert Engine.SGLANG.value == "SGLang"
