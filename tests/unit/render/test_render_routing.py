"""spec.routing rendered offline: the picker's scorers follow the engines and adapters, each engine's metric
names reach the picker, the queue timeout defaults to the cold-start budget, the proxy only without a
Gateway, the picker's pods never match the InferencePool's selector, every object is schema-valid (the
InferencePool and HTTPRoute against their upstream CRDs), and the RoutingReady choice per cluster.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.planning.plan import plan_model_deployment
from genai_operator.planning.routing_choice import choose_routing
from genai_operator.render import render_children
from genai_operator.render.signals import load_seconds
from genai_operator.settings import Settings
from support.operator_harness import example
from support.render_fixtures import validate_all


def rendered(doc: dict[str, Any]) -> tuple[ModelDeployment, list[dict[str, Any]]]:
    md = ModelDeployment.model_validate(doc)
    decision = plan_model_deployment(md, None)
    objects = render_children(md, decision, owner_uid="uid-1", routing=True)
    validate_all(objects)
    return md, objects


def one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def picker_config(objects: list[dict[str, Any]], name: str) -> dict[str, Any]:
    pod = one(objects, "Deployment", name)["spec"]["template"]["spec"]
    args = next(c for c in pod["containers"] if c["name"] == "epp")["args"]
    loaded = yaml.safe_load(args[args.index("--config-text") + 1].replace("$$", "$"))
    assert isinstance(loaded, dict)
    return loaded


def scorers(config: dict[str, Any]) -> list[str]:
    return [p["pluginRef"] for p in config["schedulingProfiles"][0]["plugins"] if "weight" in p]


def test_vllm_with_adapters_gets_every_scorer_and_the_gateway_route() -> None:
    _, objects = rendered(example("qwen-7b-routed-gateway.yaml"))
    config = picker_config(objects, "qwen-7b-routed-epp")
    assert scorers(config) == [
        "queue-scorer",
        "kv-cache-utilization-scorer",
        "prefix-cache-scorer",
        "lora-affinity-scorer",
    ]
    engine = config["plugins"][1]["parameters"]["engineConfigs"][0]
    assert engine["queuedRequestsSpec"] == "vllm:num_requests_waiting"
    assert config["flowControl"] == {"defaultRequestTTL": "900s"} and config["featureGates"] == ["flowControl"]
    route = one(objects, "HTTPRoute", "qwen-7b-routed")
    assert route["spec"]["rules"][0]["timeouts"] == {"request": "1500s"}
    assert route["spec"]["parentRefs"][0]["namespace"] == "gateway-system"
    pool = one(objects, "InferencePool", "qwen-7b-routed")
    picker_pod = one(objects, "Deployment", "qwen-7b-routed-epp")["spec"]["template"]["metadata"]["labels"]
    assert not set(pool["spec"]["selector"]["matchLabels"].items()) <= set(picker_pod.items())
    containers = one(objects, "Deployment", "qwen-7b-routed-epp")["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["epp"]
    assert all(o["metadata"]["ownerReferences"][0]["uid"] == "uid-1" for o in objects)


def test_llamacpp_standalone_has_no_prefix_or_lora_scorer_and_waits_the_cold_start() -> None:
    md, objects = rendered(example("qwen-1.5b-edge-routed.yaml"))
    config = picker_config(objects, "qwen-edge-routed-epp")
    assert scorers(config) == ["queue-scorer", "kv-cache-utilization-scorer"]
    extractor = config["plugins"][1]["parameters"]
    assert extractor["defaultEngine"] == "llama-cpp"
    assert extractor["engineConfigs"][0]["queuedRequestsSpec"] == "llamacpp:requests_deferred"
    held = load_seconds(md, plan_model_deployment(md, None), Settings())
    assert config["flowControl"]["defaultRequestTTL"] == f"{held}s"
    containers = one(objects, "Deployment", "qwen-edge-routed-epp")["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["envoy", "epp"]
    assert not any(o["kind"] == "HTTPRoute" for o in objects)
    ports = {p["name"]: p["port"] for p in one(objects, "Service", "qwen-edge-routed-epp")["spec"]["ports"]}
    assert ports["proxy"] == 8081


def test_tgi_has_no_kv_cache_scorer() -> None:
    doc = example("mistral-7b-tgi.yaml")
    doc["spec"]["routing"] = {}
    _, objects = rendered(doc)
    config = picker_config(objects, f"{doc['metadata']['name']}-epp")
    assert scorers(config) == ["queue-scorer"]
    assert config["plugins"][1]["parameters"]["engineConfigs"][0]["kvUsageSpec"] == ""


@pytest.mark.parametrize(
    ("pools", "gateway_api", "gateway", "expected"),
    [
        (False, True, None, (False, False, "InferencePoolCrdMissing")),
        (True, False, {"name": "gw"}, (False, False, "GatewayApiCrdMissing")),
        (True, False, None, (True, True, "StandaloneProxy")),
        (True, True, {"name": "gw"}, (True, True, "GatewayRouted")),
    ],
)
def test_routing_choice_per_cluster(
    pools: bool, gateway_api: bool, gateway: dict[str, str] | None, expected: tuple[bool, bool, str]
) -> None:
    doc = example("qwen-1.5b-edge-routed.yaml")
    doc["spec"]["routing"] = {"gateway": gateway} if gateway else {}
    choice = choose_routing(ModelDeployment.model_validate(doc), inference_pools=pools, gateway_api=gateway_api)
    assert (choice.render, choice.ready, choice.reason) == expected


def test_routing_off_renders_nothing_and_no_condition() -> None:
    doc = example("llama-8b-bf16-l4.yaml")
    md = ModelDeployment.model_validate(doc)
    assert choose_routing(md, inference_pools=True, gateway_api=True).ready is None
    objects = render_children(md, plan_model_deployment(md, None), routing=True)
    assert not any(o["kind"] in ("InferencePool", "HTTPRoute") for o in objects)
