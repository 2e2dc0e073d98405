"""The v1alpha1 API: model defaults and validation, generated CRDs (drift, structure, CEL rules), examples.

The CEL rules are evaluated with cel-python on defaulted objects, and every invalid case must be
rejected both by the CRD (what `kubectl apply` does) and by the pydantic models (what the CLI does).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from genai_operator.api.crdfiles import crd_texts
from genai_operator.api.crdgen import all_crds, model_deployment_crd, placement_pool_crd
from genai_operator.api.enums import Engine, Precision, QuantMethod
from genai_operator.api.loading import describe_validation_error
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.placementpool import PlacementPool
from support.crd_validation import admission_errors
from support.paths import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def manifest(**spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"model": {"uri": "hf://meta-llama/Llama-3.1-8B-Instruct"}}
    base.update(spec)
    return {
        "apiVersion": "genaiops.dev/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": "m", "namespace": "ns"},
        "spec": base,
    }


def test_defaults_fill_a_minimal_spec() -> None:
    md = ModelDeployment.model_validate(manifest())
    spec = md.spec
    assert spec.engine == Engine.AUTO
    assert spec.quantization.precision == Precision.AUTO
    assert spec.quantization.method == QuantMethod.NONE
    assert spec.serving.gpu_memory_utilization_percent == 90
    assert spec.resources.gpu.count == "Auto"
    assert spec.replicas == 1
    assert spec.scaling is None and spec.placement is None


def test_wire_form_is_camel_case() -> None:
    md = ModelDeployment.model_validate(manifest(serving={"maxContextLength": 4096}))
    wire = md.spec.to_dict()
    assert wire["serving"]["maxContextLength"] == 4096
    assert "max_context_length" not in wire["serving"]


INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("gguf type without GGUF", manifest(quantization={"ggufType": "Q4_K_M"}), "ggufType"),
    ("AWQ at INT8", manifest(quantization={"method": "AWQ", "precision": "INT8"}), "INT4"),
    ("GPTQ at FP8", manifest(quantization={"method": "GPTQ", "precision": "FP8"}), "INT4"),
    ("FP8 method at INT4", manifest(quantization={"method": "FP8", "precision": "INT4"}), "FP8"),
    ("GGUF on vLLM", manifest(engine="VLLM", quantization={"method": "GGUF", "ggufType": "Q4_K_M"}), "llama.cpp"),
    ("llama.cpp with AWQ", manifest(engine="LlamaCpp", quantization={"method": "AWQ"}), "GGUF"),
    ("min above max", manifest(scaling={"minReplicas": 5, "maxReplicas": 2}), "minReplicas"),
    ("HPA to zero", manifest(scaling={"minReplicas": 0, "maxReplicas": 2, "backend": "HPA"}), "zero"),
    ("pools and tier", manifest(placement={"pools": ["a"], "tier": "Edge"}), "exactly one"),
    ("neither pools nor tier", manifest(placement={"strategy": "Spread"}), "exactly one"),
    ("gpu count zero", manifest(resources={"gpu": {"count": 0}}), "count"),
    ("gpu count word", manifest(resources={"gpu": {"count": "Many"}}), "count"),
]


@pytest.mark.parametrize(("case", "obj", "needle"), INVALID, ids=[c[0] for c in INVALID])
def test_cross_field_rules_reject_in_crd_and_models_alike(case: str, obj: dict[str, Any], needle: str) -> None:
    crd_errors = admission_errors(model_deployment_crd(), obj)
    assert crd_errors, f"{case}: the CRD admitted it"
    with pytest.raises(ValidationError) as info:
        ModelDeployment.model_validate(obj)
    text = " ".join(describe_validation_error(info.value))
    assert needle.lower() in text.lower(), text


BAD_FIELDS: list[tuple[dict[str, Any], str, str]] = [
    (manifest(quantisation={}), "spec.quantisation", "unknown field"),
    (manifest(quantization={"precision": "INT3"}), "spec.quantization.precision", "Auto"),
    (manifest(model={"uri": "hf://x/y", "parameters": "8 billion"}), "spec.model.parameters", "8B"),
    (manifest(model={"uri": "ftp://x/y"}), "spec.model.uri", "hf://"),
    (manifest(replicas=-1), "spec.replicas", "greater than or equal"),
]


@pytest.mark.parametrize(("obj", "field", "hint"), BAD_FIELDS)
def test_errors_name_the_field_and_the_fix(obj: dict[str, Any], field: str, hint: str) -> None:
    with pytest.raises(ValidationError) as info:
        ModelDeployment.model_validate(obj)
    lines = describe_validation_error(info.value)
    assert any(line.startswith(field) and hint in line for line in lines), lines
    assert admission_errors(model_deployment_crd(), obj) or field == "spec.quantisation"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_is_admitted_by_the_crd_and_the_models(path: Path) -> None:
    for doc in yaml.safe_load_all(path.read_text()):
        assert admission_errors(model_deployment_crd(), doc) == []
        ModelDeployment.model_validate(doc)


def test_at_least_six_examples_cover_the_promised_cases() -> None:
    docs = [yaml.safe_load(p.read_text()) for p in EXAMPLES]
    assert len(docs) >= 6
    quant = [d["spec"].get("quantization", {}) for d in docs]
    assert any(q.get("method") == "AWQ" for q in quant)
    assert any(q.get("method") == "GGUF" for q in quant)
    assert any(q.get("precision") == "Auto" for q in quant)
    assert any("scaling" in d["spec"] and "placement" in d["spec"] for d in docs)
    assert any("mixtral" in d["spec"]["model"]["uri"].lower() for d in docs)


def test_example_pools_are_admitted() -> None:
    for doc in yaml.safe_load_all((ROOT / "examples/inventory/pools.yaml").read_text()):
        assert admission_errors(placement_pool_crd(), doc) == []
        PlacementPool.model_validate(doc)


def test_checked_in_crds_match_the_models() -> None:
    for name, text in crd_texts().items():
        path = ROOT / "crds" / name
        assert path.read_text() == text, f"{path} drifted; run `genai-operator crd --output-dir crds`"


def _walk(schema: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    out = [(path, schema)]
    for name, sub in (schema.get("properties") or {}).items():
        out += _walk(sub, f"{path}.{name}")
    if "items" in schema:
        out += _walk(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        out += _walk(schema["additionalProperties"], f"{path}{{}}")
    return out


@pytest.mark.parametrize("name", sorted(all_crds()))
def test_crd_schema_is_structural_and_documented(name: str) -> None:
    crd = all_crds()[name]
    version = crd["spec"]["versions"][0]
    root = version["schema"]["openAPIV3Schema"]
    for path, node in _walk(root["properties"]["spec"], ".spec") + _walk(root["properties"]["status"], ".status"):
        assert "$ref" not in node and "anyOf" not in node and "title" not in node, path
        assert "type" in node or node.get("x-kubernetes-int-or-string"), f"{path} has no type"
        if "properties" in node:
            assert "additionalProperties" not in node, path
        if not path.endswith("[]") and not path.endswith("{}"):
            assert node.get("description"), f"{path} has no description"
        for rule in node.get("x-kubernetes-validations", []):
            assert rule["message"] and rule["rule"]
    assert "status" in version["subresources"]


def test_scale_subresource_and_printer_columns() -> None:
    crd = model_deployment_crd()
    version = crd["spec"]["versions"][0]
    assert version["subresources"]["scale"] == {
        "specReplicasPath": ".spec.replicas",
        "statusReplicasPath": ".status.replicas",
        "labelSelectorPath": ".status.selector",
    }
    names = [c["name"] for c in version["additionalPrinterColumns"]]
    assert names[:6] == ["Model", "Engine", "Precision", "Replicas", "Ready", "Age"]
    wide = [c["name"] for c in version["additionalPrinterColumns"] if c.get("priority") == 1]
    assert wide == ["Task", "Pools", "Endpoint"]
    assert crd["spec"]["names"]["shortNames"] == ["mdep", "md"]
    assert crd["spec"]["names"]["categories"] == ["genai"]
    assert placement_pool_crd()["spec"]["scope"] == "Cluster"


def _cel_strings_are_bounded(schema: dict[str, Any]) -> list[str]:
    """Strings and lists under a node with CEL rules need maxLength/maxItems (or enums) for the cost estimator."""
    problems = []
    for path, node in _walk(schema):
        if not node.get("x-kubernetes-validations"):
            continue
        for sub_path, sub in _walk(node, path):
            if sub.get("type") == "string" and "maxLength" not in sub and "enum" not in sub:
                problems.append(sub_path)
            if sub.get("type") == "array" and "maxItems" not in sub:
                problems.append(sub_path)
    return problems


def test_every_cel_rule_has_bounded_inputs() -> None:
    for crd in all_crds().values():
        root = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        assert _cel_strings_are_bounded(root["properties"]["spec"]) == []


def test_conditions_are_a_list_map_keyed_by_type() -> None:
    status = model_deployment_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["status"]
    conditions = status["properties"]["conditions"]
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    assert set(conditions["items"]["required"]) >= {"type", "status", "reason", "lastTransitionTime"}


def test_defaults_from_the_crd_match_the_models() -> None:
    from support.crd_validation import apply_defaults

    schema = model_deployment_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    obj = apply_defaults(schema, copy.deepcopy(manifest()))
    model = ModelDeployment.model_validate(manifest()).spec.to_dict()
    for key in ("engine", "replicas", "quantization", "serving"):
        expected = model[key]
        if isinstance(expected, dict):  # empty lists are simply absent on the server
            expected = {k: v for k, v in expected.items() if v != []}
        assert obj["spec"][key] == expected, key


ADAPTER_AND_CACHE_INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("adapters on TGI", manifest(engine="TGI", adapters=[{"name": "a", "uri": "hf://acme/a"}]), "vLLM"),
    ("adapters on llama.cpp", manifest(engine="LlamaCpp", adapters=[{"name": "a", "uri": "hf://acme/a"}]), "vLLM"),
    ("adapter from an unknown scheme", manifest(adapters=[{"name": "a", "uri": "ftp://reg/a"}]), "uri"),
    ("adapter name not DNS", manifest(adapters=[{"name": "My_Adapter", "uri": "hf://acme/a"}]), "name"),
    ("LoRA rank 7", manifest(serving={"maxLoraRank": 7}), "maxLoraRank"),
]


@pytest.mark.parametrize(
    ("case", "obj", "needle"), ADAPTER_AND_CACHE_INVALID, ids=[c[0] for c in ADAPTER_AND_CACHE_INVALID]
)
def test_adapter_rules_reject_in_crd_and_models_alike(case: str, obj: dict[str, Any], needle: str) -> None:
    assert admission_errors(model_deployment_crd(), obj), f"{case}: the CRD admitted it"
    with pytest.raises(ValidationError) as info:
        ModelDeployment.model_validate(obj)
    assert needle.lower() in " ".join(describe_validation_error(info.value)).lower()


def test_adapter_names_are_unique_and_a_list_map() -> None:
    adapters = [{"name": "a", "uri": "hf://acme/a"}, {"name": "a", "uri": "hf://acme/b"}]
    with pytest.raises(ValidationError, match="unique"):
        ModelDeployment.model_validate(manifest(adapters=adapters))
    schema = model_deployment_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    node = schema["properties"]["spec"]["properties"]["adapters"]
    # The API server enforces uniqueness of list-map keys, so a duplicate is refused at kubectl apply.
    assert node["x-kubernetes-list-type"] == "map" and node["x-kubernetes-list-map-keys"] == ["name"]


def pool_manifest(cache: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "genaiops.dev/v1alpha1",
        "kind": "PlacementPool",
        "metadata": {"name": "p"},
        "spec": {"tier": "Cloud", "cache": cache},
    }


@pytest.mark.parametrize(
    ("cache", "needle"),
    [
        ({"mode": "NodeLocal", "existingClaim": "models"}, "existingClaim"),
        ({"mode": "None", "storageClassName": "nfs"}, "Shared or NodeLocal"),
        ({"mode": "Shared", "size": "lots"}, "size"),
        ({"mode": "Shared", "keepRevisions": 0}, "keepRevisions"),
        ({"mode": "Everywhere"}, "mode"),
    ],
)
def test_pool_cache_rules_reject_in_crd_and_models_alike(cache: dict[str, Any], needle: str) -> None:
    obj = pool_manifest(cache)
    crd = yaml.safe_load((ROOT / "crds" / "placementpools.genaiops.dev.yaml").read_text(encoding="utf-8"))
    assert admission_errors(crd, obj), f"the CRD admitted {cache}"
    with pytest.raises(ValidationError) as info:
        PlacementPool.model_validate(obj)
    assert needle.lower() in " ".join(describe_validation_error(info.value)).lower()


def test_pool_cache_defaults_to_none() -> None:
    pool = PlacementPool.model_validate(pool_manifest({}))
    assert pool.spec.cache.mode.value == "None" and pool.spec.cache.keep_revisions == 2
