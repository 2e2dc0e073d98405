"""Site-first routing rendered offline: a site unit (InferencePool, picker with its site proxy, Service) for
each Edge pool with replicas and for no other pool, its InferencePool selecting only that pool's pods, the
picker pinned to the pool's nodes with the edge pods' tolerations and sharing the global picker's identity,
no flow control on the site picker, the proxy's fallback to the global endpoint (standalone proxy or, with
a Gateway, the model's Service), the site endpoints for status, and every object schema-valid.
"""

from __future__ import annotations

import copy
from typing import Any

import yaml

from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.placementpool import PlacementPool
from genai_operator.placement.assemble import build_pools
from genai_operator.placement.types import PlacementDecision
from genai_operator.planning.plan import plan_model_deployment
from genai_operator.render import render_children
from genai_operator.render.site_routing import site_endpoints
from genai_operator.settings import Settings
from support.operator_harness import example
from support.paths import ROOT
from support.render_fixtures import validate_all

POOLS = ROOT / "examples" / "inventory" / "pools.yaml"


def hybrid(**routing: Any) -> dict[str, Any]:
    """The edge-orin + cloud-l4 example with routing on, spread so both pools get replicas."""
    doc = copy.deepcopy(example("llama-3b-autoscaled-hybrid.yaml"))
    doc["spec"]["placement"]["strategy"] = "Spread"
    doc["spec"]["routing"] = routing
    return doc


def planned(doc: dict[str, Any]) -> tuple[ModelDeployment, PlacementDecision, list[dict[str, Any]]]:
    md = ModelDeployment.model_validate(doc)
    manifests = [PlacementPool.model_validate(d) for d in yaml.safe_load_all(POOLS.read_text()) if d]
    decision = plan_model_deployment(md, build_pools(manifests, None))
    objects = render_children(md, decision, owner_uid="uid-1", routing=True)
    validate_all(objects)
    return md, decision, objects


def named(objects: list[dict[str, Any]], kind: str) -> list[str]:
    return [o["metadata"]["name"] for o in objects if o["kind"] == kind]


def one(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def envoy(deployment: dict[str, Any]) -> dict[str, Any]:
    container = next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "envoy")
    loaded = yaml.safe_load(container["args"][container["args"].index("--config-yaml") + 1].replace("$$", "$"))
    assert isinstance(loaded, dict)
    return loaded


def picker_config(deployment: dict[str, Any]) -> dict[str, Any]:
    container = next(c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "epp")
    loaded = yaml.safe_load(container["args"][container["args"].index("--config-text") + 1].replace("$$", "$"))
    assert isinstance(loaded, dict)
    return loaded


def test_only_the_edge_pool_with_replicas_gets_a_site_unit() -> None:
    _, decision, objects = planned(hybrid())
    assert {a.pool.name for a in decision.assignments if a.replicas} == {"edge-orin", "cloud-l4"}
    name = "assistant"
    assert named(objects, "InferencePool") == [name, f"{name}-edge-orin"]
    assert f"{name}-edge-orin-epp" in named(objects, "Deployment")
    assert not any("cloud-l4-epp" in n for n in named(objects, "Deployment") + named(objects, "Service"))
    # One identity for every picker of the model: no grant is added per site.
    assert named(objects, "Role") == [f"{name}-epp"] and named(objects, "ServiceAccount") == [f"{name}-epp"]


def test_site_pool_selects_only_its_pods_and_the_picker_runs_on_the_site() -> None:
    _, _, objects = planned(hybrid())
    name = "assistant"
    pool = one(objects, "InferencePool", f"{name}-edge-orin")
    assert pool["spec"]["selector"]["matchLabels"] == {
        "genaiops.dev/model-deployment": name,
        "genaiops.dev/pool": "edge-orin",
    }
    assert pool["spec"]["endpointPickerRef"]["name"] == f"{name}-edge-orin-epp"
    workload = one(objects, "StatefulSet", "assistant-edge-orin")  # NodeLocal cache: a StatefulSet
    model_pod = workload["spec"]["template"]["spec"]
    picker = one(objects, "Deployment", f"{name}-edge-orin-epp")
    pod = picker["spec"]["template"]["spec"]
    assert pod["nodeSelector"].items() >= {"node-role.kubernetes.io/edge": "", "nvidia.com/gpu.product": "Orin"}.items()
    assert pod["tolerations"] == model_pod["tolerations"]
    assert pod["serviceAccountName"] == f"{name}-epp"
    # The site picker's pods match neither the model's pools nor the global picker's selectors.
    labels = picker["spec"]["template"]["metadata"]["labels"]
    assert "genaiops.dev/model-deployment" not in labels
    global_selector = one(objects, "Service", f"{name}-epp")["spec"]["selector"]
    assert not global_selector.items() <= labels.items()
    site_service = one(objects, "Service", f"{name}-edge-orin-epp")
    assert site_service["spec"]["selector"].items() <= labels.items()
    assert {p["port"] for p in site_service["spec"]["ports"]} == {9002, 9090, 8081}
    assert all(c["securityContext"]["runAsNonRoot"] for c in pod["containers"])


def test_site_picker_never_holds_and_the_proxy_falls_back_to_the_global_proxy() -> None:
    _, _, objects = planned(hybrid())
    name = "assistant"
    site = one(objects, "Deployment", f"{name}-edge-orin-epp")
    config = picker_config(site)
    assert "flowControl" not in config and "featureGates" not in config
    assert "flowControl" in picker_config(one(objects, "Deployment", f"{name}-epp"))
    resources = envoy(site)["static_resources"]
    cluster = next(c for c in resources["clusters"] if c["name"] == "site_first")
    levels = [
        (e["priority"], e["lb_endpoints"][0]["endpoint"]["address"]["socket_address"])
        for e in cluster["load_assignment"]["endpoints"]
    ]
    assert levels == [
        (0, {"address": "127.0.0.1", "port_value": 8082}),
        (1, {"address": f"{name}-epp.ml.svc", "port_value": 8081}),
    ]
    outer = next(li for li in resources["listeners"] if li["name"] == "site_first")
    inner = next(li for li in resources["listeners"] if li["name"] == "site")
    assert outer["address"]["socket_address"]["port_value"] == 8081
    assert inner["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 8082}
    manager = outer["filter_chains"][0]["filters"][0]["typed_config"]
    route = manager["route_config"]["virtual_hosts"][0]["routes"][0]["route"]
    retry = route["retry_policy"]
    assert (
        retry["num_retries"] == 1
        and 503 in retry["retriable_status_codes"]
        and 504 not in retry["retriable_status_codes"]
    )
    assert retry["retry_priority"]["name"] == "envoy.retry_priorities.previous_priorities"
    # Only the inner listener asks the site picker; the outer one just forwards and retries.
    assert [f["name"] for f in manager["http_filters"]] == ["envoy.filters.http.router"]


def test_with_a_gateway_the_site_falls_back_to_the_model_service() -> None:
    _, _, objects = planned(hybrid(gateway={"name": "inference-gateway"}))
    site = one(objects, "Deployment", "assistant-edge-orin-epp")
    cluster = next(c for c in envoy(site)["static_resources"]["clusters"] if c["name"] == "site_first")
    fallback = cluster["load_assignment"]["endpoints"][1]["lb_endpoints"][0]["endpoint"]["address"]
    assert fallback["socket_address"] == {"address": "assistant.ml.svc", "port_value": 8000}


def test_cloud_only_routing_has_no_site_unit_and_no_site_endpoint() -> None:
    md, decision, objects = planned(example("qwen-7b-routed-gateway.yaml"))
    assert named(objects, "InferencePool") == ["qwen-7b-routed"]
    assert site_endpoints(md, decision, Settings().cluster_domain) == []


def test_site_endpoints_name_each_site_proxy() -> None:
    md, decision, _ = planned(hybrid())
    assert site_endpoints(md, decision, "svc") == [
        {"pool": "edge-orin", "endpoint": "http://assistant-edge-orin-epp.ml.svc:8081/v1"}
    ]
