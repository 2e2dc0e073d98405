"""Our CRDs in a real kube-apiserver: applied server-side, every example and the sample PlacementPools admitted,
every CEL rule compiled and proven to fire by a manifest it rejects with our message at `kubectl apply`, the
structural schema pruning unknown fields, `kubectl explain`, the printer columns of `kubectl get mdep`, and
`kubectl scale mdep` through the /scale subresource.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from cluster_support import EXAMPLES, INVENTORY, ROOT, create_namespace, eventually, example, get, md_path
from genai_sandbox import ControlPlane

Manifest = dict[str, Any]


def _md(**spec: Any) -> Manifest:
    manifest = example("llama-8b-bf16-l4.yaml")
    manifest["metadata"] = {"name": "cel-case", "namespace": "cel"}
    manifest["spec"].update(spec)
    return manifest


def _pool(**spec: Any) -> Manifest:
    return {
        "apiVersion": "genaiops.dev/v1alpha1",
        "kind": "PlacementPool",
        "metadata": {"name": "cel-pool"},
        "spec": {"tier": "Cloud", "nodeSelector": {"pool": "cel"}, **spec},
    }


_ADAPTERS = [{"name": "sql", "uri": "hf://acme/sql-lora"}]
# One manifest per CEL rule, keyed by (kind, the schema path of the rule, its message). A rule added to the
# API without a case here fails test_every_cel_rule_has_a_case.
CASES: dict[tuple[str, str, str], Callable[[], Manifest]] = {
    ("ModelDeployment", ".spec", "quantization.method GGUF is served by llama.cpp"): lambda: _md(
        engine="VLLM", quantization={"precision": "INT4", "method": "GGUF", "ggufType": "Q4_K_M"}
    ),
    ("ModelDeployment", ".spec", "engine LlamaCpp serves GGUF files"): lambda: _md(
        engine="LlamaCpp", quantization={"precision": "INT4", "method": "AWQ"}
    ),
    ("ModelDeployment", ".spec", "spec.adapters are served by vLLM or SGLang"): lambda: _md(
        engine="TGI", adapters=_ADAPTERS
    ),
    ("ModelDeployment", ".spec", "spec.task TextEmbedding and Reranking are served by"): lambda: _md(
        task="TextEmbedding", engine="VLLM"
    ),
    ("ModelDeployment", ".spec", "engine TEI serves embedding and reranking models"): lambda: _md(engine="TEI"),
    ("ModelDeployment", ".spec", "embedding and reranking models are served in 16 or 32 bit"): lambda: _md(
        task="Reranking", engine="TEI", quantization={"precision": "INT8"}
    ),
    ("ModelDeployment", ".spec", "spec.adapters are LoRA adapters for text generation"): lambda: _md(
        task="TextEmbedding", engine="Auto", quantization={"precision": "Auto"}, adapters=_ADAPTERS
    ),
    ("ModelDeployment", ".spec", "spec.model.loadFormat Stream is served by vLLM"): lambda: _md(
        engine="SGLang", model={"uri": "s3://models/llama-3.1-8b", "parameters": "8B", "loadFormat": "Stream"}
    ),
    ("ModelDeployment", ".spec.model", "spec.model.loadFormat Stream reads object stores only"): lambda: _md(
        model={"uri": "hf://meta-llama/Llama-3.1-8B-Instruct", "loadFormat": "Stream"}
    ),
    ("ModelDeployment", ".spec.quantization", "quantization.ggufType is only valid with method GGUF"): lambda: _md(
        quantization={"precision": "BF16", "ggufType": "Q4_K_M"}
    ),
    ("ModelDeployment", ".spec.quantization", "AWQ checkpoints are 4-bit"): lambda: _md(
        quantization={"precision": "BF16", "method": "AWQ"}
    ),
    ("ModelDeployment", ".spec.quantization", "GPTQ and BitsAndBytes produce INT4 or INT8"): lambda: _md(
        quantization={"precision": "FP16", "method": "GPTQ"}
    ),
    ("ModelDeployment", ".spec.quantization", "method FP8 needs precision FP8 or Auto"): lambda: _md(
        quantization={"precision": "BF16", "method": "FP8"}
    ),
    ("ModelDeployment", ".spec.resources.gpu.count", "gpu.count must be Auto or an integer from 1 to 64"): lambda: _md(
        resources={"gpu": {"types": ["nvidia-l4"], "count": 100}}
    ),
    ("ModelDeployment", ".spec.scaling", "scaling.minReplicas must be less than or equal"): lambda: _md(
        scaling={"minReplicas": 5, "maxReplicas": 2}
    ),
    ("ModelDeployment", ".spec.scaling", "an HPA cannot scale to zero"): lambda: _md(
        scaling={"minReplicas": 0, "maxReplicas": 2, "backend": "HPA"}
    ),
    ("ModelDeployment", ".spec.scaling", "scaling.warmStandby replaces scale to zero"): lambda: _md(
        scaling={"minReplicas": 1, "maxReplicas": 2, "warmStandby": {}}
    ),
    ("ModelDeployment", ".spec.scaling", "scaling.warmStandby is woken by KEDA's Active"): lambda: _md(
        scaling={"minReplicas": 0, "maxReplicas": 2, "backend": "HPA", "warmStandby": {}}
    ),
    ("ModelDeployment", ".spec.scaling", "scaling.warmStandby.replicas must not exceed"): lambda: _md(
        scaling={"minReplicas": 0, "maxReplicas": 2, "warmStandby": {"replicas": 3}}
    ),
    ("ModelDeployment", ".spec", "scaling.warmStandby uses vLLM's sleep mode"): lambda: _md(
        engine="SGLang", scaling={"minReplicas": 0, "maxReplicas": 2, "warmStandby": {}}
    ),
    ("ModelDeployment", ".spec.placement", "set exactly one of placement.pools"): lambda: _md(
        placement={"pools": ["cloud-l4"], "tier": "Cloud"}
    ),
    (
        "ModelDeployment",
        ".spec.networkPolicy.allowedClients[]",
        "a peer needs namespaceSelector, podSelector",
    ): lambda: _md(networkPolicy={"allowedClients": [{}]}),
    (
        "ModelDeployment",
        ".spec.networkPolicy.allowMetricsFrom[]",
        "a peer needs namespaceSelector, podSelector",
    ): lambda: _md(networkPolicy={"allowMetricsFrom": [{}]}),
    ("PlacementPool", ".spec.cache", "cache.storageClassName and cache.existingClaim need mode Shared"): lambda: _pool(
        cache={"mode": "None", "storageClassName": "fast"}
    ),
    ("PlacementPool", ".spec.cache", "cache.existingClaim is a shared claim"): lambda: _pool(
        cache={"mode": "NodeLocal", "existingClaim": "models"}
    ),
    ("PlacementPool", ".spec.gpu", "gpu.slices are NVIDIA MIG slices"): lambda: _pool(
        gpu={"resourceName": "amd.com/gpu", "slices": {"profiles": ["1g.10gb"]}}
    ),
}


def _cel_rules() -> set[tuple[str, str, str]]:
    rules: set[tuple[str, str, str]] = set()
    for path in sorted((ROOT / "crds").glob("*.yaml")):
        crd = yaml.safe_load(path.read_text(encoding="utf-8"))
        kind = crd["spec"]["names"]["kind"]

        def walk(node: Any, where: str, kind: str = kind) -> None:
            if not isinstance(node, dict):
                return
            for rule in node.get("x-kubernetes-validations") or []:
                rules.add((kind, where, rule["message"]))
            for name, child in (node.get("properties") or {}).items():
                walk(child, f"{where}.{name}")
            if isinstance(node.get("items"), dict):
                walk(node["items"], f"{where}[]")

        walk(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"], "")
    return rules


def _case_for(rule: tuple[str, str, str]) -> tuple[str, str, str] | None:
    return next((case for case in CASES if case[:2] == rule[:2] and rule[2].startswith(case[2])), None)


def test_every_cel_rule_has_a_case() -> None:
    rules = _cel_rules()
    assert rules, "no CEL rules found in crds/"
    uncovered = [rule for rule in rules if _case_for(rule) is None]
    assert uncovered == [], f"CEL rules without a rejected manifest in CASES: {uncovered}"


@pytest.mark.parametrize("case", list(CASES), ids=lambda case: case[2][:48])
def test_each_cel_rule_rejects_at_kubectl_apply_with_our_message(
    control_plane: ControlPlane, case: tuple[str, str, str]
) -> None:
    create_namespace(control_plane, "cel")
    manifest = CASES[case]()
    result = control_plane.kubectl("apply", "--server-side", "-f", "-", input_text=yaml.safe_dump(manifest))
    assert result.returncode != 0, f"the apiserver admitted a manifest that breaks {case}"
    assert case[2] in result.stderr, result.stderr
    assert "Invalid value" in result.stderr, result.stderr
    # The same manifest without the offending part is admitted (the rule, not the case, was the reason).
    ok = copy.deepcopy(manifest)
    if case[0] == "ModelDeployment":
        ok["spec"] = example("llama-8b-bf16-l4.yaml")["spec"]
    else:  # PlacementPool cases break one field of the spec: the rule's path names it
        ok["spec"].pop(case[1].rsplit(".", 1)[-1])
    result = control_plane.kubectl(
        "apply", "--server-side", "--dry-run=server", "-f", "-", input_text=yaml.safe_dump(ok)
    )
    assert result.returncode == 0, result.stderr


def test_every_example_and_the_sample_pools_are_admitted(control_plane: ControlPlane) -> None:
    for namespace in ("ml", "stores"):
        create_namespace(control_plane, namespace)
    for target in (EXAMPLES, INVENTORY / "pools.yaml"):
        result = control_plane.kubectl("apply", "--server-side", "--dry-run=server", "-f", str(target))
        assert result.returncode == 0, result.stderr
        assert result.stdout.count("serverside-applied") >= (9 if target == EXAMPLES else 4), result.stdout


def test_a_typo_is_refused_at_apply_and_pruned_from_older_clients(control_plane: ControlPlane, namespace: str) -> None:
    manifest = example("llama-8b-bf16-l4.yaml")
    manifest["metadata"] = {"name": "pruned", "namespace": namespace}
    manifest["spec"]["notAField"] = True
    del manifest["spec"]["quantization"]
    result = control_plane.kubectl("apply", "--server-side", "-f", "-", input_text=yaml.safe_dump(manifest))
    assert result.returncode != 0 and ".spec.notAField: field not declared in schema" in result.stderr, result.stderr
    # A client that does not ask for strict field validation: the structural schema prunes the field.
    status, _ = control_plane.api.request("POST", md_path(namespace) + "?fieldValidation=Ignore", manifest)
    assert status == 201
    stored = get(control_plane, md_path(namespace, "pruned"))
    assert stored is not None
    assert "notAField" not in stored["spec"]
    assert stored["spec"]["replicas"] == 2
    assert stored["spec"]["quantization"] == {"precision": "Auto", "method": "None", "kvCache": "Auto"}
    assert stored["metadata"]["generation"] == 1


def test_kubectl_explain_describes_the_quantization_field(control_plane: ControlPlane) -> None:
    result = control_plane.kubectl("explain", "modeldeployment.spec.quantization")
    assert result.returncode == 0, result.stderr
    assert "precision" in result.stdout and "GROUP:      genaiops.dev" in result.stdout, result.stdout
    result = control_plane.kubectl("explain", "placementpool.spec.tier")
    assert result.returncode == 0 and "Edge" in result.stdout, result.stdout + result.stderr


def test_kubectl_get_shows_the_printer_columns_and_scale_moves_spec_replicas(
    control_plane: ControlPlane, namespace: str
) -> None:
    manifest = example("llama-8b-bf16-l4.yaml")
    manifest["metadata"] = {"name": "columns", "namespace": namespace}
    result = control_plane.kubectl("apply", "--server-side", "-f", "-", input_text=yaml.safe_dump(manifest))
    assert result.returncode == 0, result.stderr
    result = control_plane.kubectl("get", "mdep", "-n", namespace)
    header = result.stdout.splitlines()[0].split()
    assert header[:3] == ["NAME", "MODEL", "ENGINE"] and "PRECISION" in header and "AGE" in header, result.stdout
    wide = control_plane.kubectl("get", "md", "-n", namespace, "-o", "wide").stdout.splitlines()[0]
    assert "POOLS" in wide and "ENDPOINT" in wide, wide
    assert "columns" in control_plane.kubectl("get", "genai", "-A").stdout  # the category

    result = control_plane.kubectl("scale", "mdep/columns", "-n", namespace, "--replicas=5")
    assert result.returncode == 0, result.stderr
    stored = eventually(lambda: get(control_plane, md_path(namespace, "columns")))
    assert stored["spec"]["replicas"] == 5
    scale = get(control_plane, md_path(namespace, "columns") + "/scale")
    assert scale is not None and scale["kind"] == "Scale" and scale["spec"]["replicas"] == 5
