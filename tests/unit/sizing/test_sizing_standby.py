"""Warm standby before any pod exists: the spec rules (CRD and models alike), the host memory of a sleeping
replica, vLLM's sleep-mode flag and environment, the pod's memory request, which pools can hold it, and the
ScaledObject that keeps the standby replicas instead of zero.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from genai_operator.api.crdgen import model_deployment_crd
from genai_operator.api.loading import describe_validation_error
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.formats.quantity import GIB, to_bytes
from genai_operator.placement.assemble import build_pools
from genai_operator.placement.inventory import node_view
from genai_operator.planning.autoscaler_choice import choose_autoscaler
from genai_operator.planning.fleet_report import report_entry
from genai_operator.planning.plan import SpecError, plan_model_deployment
from genai_operator.planning.standby_plan import pod_memory_bytes
from genai_operator.render import render_children
from genai_operator.settings import Settings
from genai_operator.sizing.standby import standby_host_bytes
from support.crd_validation import admission_errors
from support.node_objects import nvidia_node, openyurt_node
from support.paths import ROOT

EXAMPLE = ROOT / "examples" / "qwen-7b-warm-standby.yaml"


def example(**scaling: Any) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    doc["spec"]["scaling"]["warmStandby"].update(scaling)
    return doc


def with_spec(doc: dict[str, Any], **spec: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["spec"].update(spec)
    return out


def with_scaling(doc: dict[str, Any], **scaling: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["spec"]["scaling"].update(scaling)
    return out


INVALID = [
    ("not scale to zero", with_scaling(example(), minReplicas=1), "minReplicas to 0"),
    ("HPA", with_scaling(example(), backend="HPA"), "KEDA"),
    ("above max", with_scaling(example(replicas=3), maxReplicas=2), "maxReplicas"),
    ("SGLang", with_spec(example(), engine="SGLang"), "vLLM's sleep mode"),
    ("level 2", example(level=2), "level"),
]


@pytest.mark.parametrize(("case", "obj", "needle"), INVALID, ids=[c[0] for c in INVALID])
def test_warm_standby_rules_reject_in_crd_and_models_alike(case: str, obj: dict[str, Any], needle: str) -> None:
    assert admission_errors(model_deployment_crd(), obj), f"{case}: the CRD admitted it"
    with pytest.raises(ValidationError) as info:
        ModelDeployment.model_validate(obj)
    assert needle.lower() in " ".join(describe_validation_error(info.value)).lower()


def test_disabled_warm_standby_is_admitted_anywhere_and_changes_nothing() -> None:
    doc = with_scaling(example(enabled=False), minReplicas=1)
    assert not admission_errors(model_deployment_crd(), doc)
    md = ModelDeployment.model_validate(doc)
    (deployment,) = [
        o for o in render_children(md, plan_model_deployment(md), owner_uid=None) if o["kind"] == "Deployment"
    ]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert "--enable-sleep-mode" not in container["args"]
    assert "VLLM_SERVER_DEV_MODE" not in {e["name"] for e in container["env"]}


def test_a_sleeping_replica_holds_its_weights_and_adapter_slots_in_cpu_memory() -> None:
    md = ModelDeployment.model_validate(example())
    estimate = plan_model_deployment(md).assignments[0].sizing.estimate
    assert standby_host_bytes(estimate, 1) == estimate.weights_bytes + estimate.lora_bytes
    assert 14 * GIB < standby_host_bytes(estimate, 1) < 15 * GIB  # Qwen2.5 7B in BF16: 15.2 GB of weights
    assert standby_host_bytes(estimate, 2) == 0  # level 2 discards them


def render(doc: dict[str, Any]) -> list[dict[str, Any]]:
    md = ModelDeployment.model_validate(doc)
    backend = choose_autoscaler(md, keda_available=True, settings=Settings()).backend
    return render_children(md, plan_model_deployment(md), owner_uid=None, autoscaler=backend)


def test_vllm_gets_sleep_mode_and_the_pod_requests_the_weights_on_top() -> None:
    plain = copy.deepcopy(example())
    del plain["spec"]["scaling"]["warmStandby"]
    [awake] = [o for o in render(plain) if o["kind"] == "Deployment"]
    [standby] = [o for o in render(example()) if o["kind"] == "Deployment"]
    container = standby["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][-1] == "--enable-sleep-mode"
    assert {"name": "VLLM_SERVER_DEV_MODE", "value": "1"} in container["env"]
    md = ModelDeployment.model_validate(example())
    weights = standby_host_bytes(plan_model_deployment(md).assignments[0].sizing.estimate, 1)

    def memory(obj: dict[str, Any]) -> int:
        return to_bytes(obj["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"])

    assert memory(standby) - memory(awake) == pytest.approx(weights, abs=GIB)  # whole GiB rounding
    assert memory(standby) == 29 * GIB  # 8 GiB + 4 GiB per GPU + 2 GiB of shm + 14.2 GiB asleep


def test_keda_keeps_the_standby_replicas_instead_of_zero() -> None:
    [scaled] = [o for o in render(example(replicas=2)) if o["kind"] == "ScaledObject"]
    assert scaled["spec"]["minReplicaCount"] == 2
    assert [t["name"] for t in scaled["spec"]["triggers"]] == ["kv-cache-usage", "wake-up"]
    choice = choose_autoscaler(ModelDeployment.model_validate(example()), keda_available=True, settings=Settings())
    assert choice.ready and "asleep" in choice.message


def pools(memory_gib: int) -> Any:
    return build_pools([], [node_view(nvidia_node("h100-a", "NVIDIA-H100-80GB-HBM3", 81559, 8, memory_gib=memory_gib))])


def test_a_pool_whose_nodes_cannot_hold_the_sleeping_weights_is_not_eligible() -> None:
    md = ModelDeployment.model_validate(example())
    assert plan_model_deployment(md, pools(64)).fits
    small = plan_model_deployment(md, pools(24))
    assert not small.fits
    assert any("warm-standby replica requests 29.0 GiB" in r and "remove warmStandby" in r for r in small.reasons)
    # Without warm standby the same pool takes the model: it is the sleeping weights that do not fit.
    plain = copy.deepcopy(example())
    del plain["spec"]["scaling"]["warmStandby"]
    assert plan_model_deployment(ModelDeployment.model_validate(plain), pools(24)).fits


def test_a_memory_override_below_what_sleep_needs_names_the_field() -> None:
    doc = with_spec(example(), resources={"gpu": {"types": ["nvidia-h100-80gb"]}, "memory": "8Gi"})
    with pytest.raises(SpecError) as info:
        plan_model_deployment(ModelDeployment.model_validate(doc))
    assert str(info.value).startswith("spec.resources.memory: 8Gi is less than") and "leave it unset" in str(info.value)
    enough = with_spec(example(), resources={"gpu": {"types": ["nvidia-h100-80gb"]}, "memory": "32Gi"})
    assert plan_model_deployment(ModelDeployment.model_validate(enough)).fits


def test_auto_engine_resolving_to_llama_cpp_is_refused_with_the_reason() -> None:
    doc = with_spec(
        example(),
        engine="Auto",
        model={"uri": "hf://Qwen/Qwen2.5-1.5B-Instruct"},
        quantization={},
        resources={},
        placement={"tier": "Edge"},
    )
    store = build_pools([], [node_view(openyurt_node("s1", "store-1", memory_gib=32))])
    decision = plan_model_deployment(ModelDeployment.model_validate(doc), store)
    assert not decision.fits
    assert any("vLLM's sleep mode" in r and "LlamaCpp" in r for r in decision.reasons), decision.reasons


def test_the_pod_memory_figure_is_the_rendered_request() -> None:
    md = ModelDeployment.model_validate(example())
    assignment = plan_model_deployment(md).assignments[0]
    needed = pod_memory_bytes(md.spec, assignment.pool, assignment.engine, assignment.sizing)
    [deployment] = [o for o in render(example()) if o["kind"] == "Deployment"]
    rendered = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["memory"]
    assert needed == to_bytes(rendered)


def test_plan_reports_the_cpu_memory_of_a_sleeping_replica() -> None:
    md = ModelDeployment.model_validate(example())
    entry = report_entry(md, plan_model_deployment(md))
    assert entry["standbyHostBytes"] == entry["weightsBytes"] > 14 * GIB
    plain = copy.deepcopy(example())
    del plain["spec"]["scaling"]["warmStandby"]
    md = ModelDeployment.model_validate(plain)
    assert report_entry(md, plan_model_deployment(md))["standbyHostBytes"] is None
