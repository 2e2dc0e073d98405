"""spec.networkPolicy: the API model and its CRD rule (a peer needs a selector), and the NetworkPolicy
builder: none unless enabled, named like the Service, selecting every pod of the ModelDeployment across
pools, ingress on the http port from the declared clients and the metrics scraper only (empty selector
maps select everything, no peers admit nothing), placed after the PDB and before the autoscaler, and
every rendered object validated strictly against the Kubernetes schemas."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from genai_operator.api.enums import Engine, ScalingBackend, Tier
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.render.labels import MODEL_DEPLOYMENT
from genai_operator.render.names import service_name
from genai_operator.render.networkpolicy import build_network_policy
from support.paths import ROOT
from support.render_fixtures import assign, by_kind, decision, manifest, only, pool, render_valid, sizing

CRD = ROOT / "crds" / "modeldeployments.genaiops.dev.yaml"
UID = "0b8e4f8a-2222-4b4b-8d8d-0123456789ab"
SCALING = {"minReplicas": 1, "maxReplicas": 4, "metric": "QueueDepth", "target": "4"}
CLIENTS = [
    {"podSelector": {"app": "chat-ui"}},
    {"namespaceSelector": {"kubernetes.io/metadata.name": "gateway"}, "podSelector": {"app": "envoy"}},
]
SCRAPER = [
    {
        "namespaceSelector": {"kubernetes.io/metadata.name": "monitoring"},
        "podSelector": {"app.kubernetes.io/name": "prometheus"},
    }
]


def two_pools() -> Any:
    edge = assign(pool("store-cpu", Tier.EDGE, cpu_only=True), 2, Engine.LLAMA_CPP, sizing(None))
    cloud = assign(pool("cloud-l4"), 1, Engine.VLLM)
    return decision(edge, cloud)


def test_no_policy_without_the_field_or_when_disabled() -> None:
    for spec in ({}, {"networkPolicy": {}}, {"networkPolicy": {"enabled": False, "allowedClients": CLIENTS}}):
        objects = render_valid(manifest(replicas=2, **spec), decision(assign(pool(), 2)), owner_uid=UID)
        assert by_kind(objects, "NetworkPolicy") == []


def test_policy_selects_every_pod_and_admits_only_declared_peers_on_the_http_port() -> None:
    md = manifest(
        "assistant", replicas=3, networkPolicy={"enabled": True, "allowedClients": CLIENTS, "allowMetricsFrom": SCRAPER}
    )
    objects = render_valid(md, two_pools(), owner_uid=UID)
    policy = only(objects, "NetworkPolicy")
    service = only(objects, "Service")
    assert policy["metadata"]["name"] == service["metadata"]["name"] == "assistant"
    assert policy["metadata"]["namespace"] == "ml"
    assert policy["metadata"]["labels"] == service["metadata"]["labels"]
    assert policy["metadata"]["ownerReferences"][0]["uid"] == UID
    spec = policy["spec"]
    # The Service's selector: every pool's pods, whichever engine serves them.
    assert (
        spec["podSelector"]
        == {"matchLabels": service["spec"]["selector"]}
        == {"matchLabels": {MODEL_DEPLOYMENT: "assistant"}}
    )
    for dep in by_kind(objects, "Deployment"):
        assert dep["spec"]["template"]["metadata"]["labels"][MODEL_DEPLOYMENT] == "assistant"
    assert spec["policyTypes"] == ["Ingress"]  # egress stays open: weights are downloaded
    clients, scraper = spec["ingress"]
    assert clients["from"] == [
        {"podSelector": {"matchLabels": {"app": "chat-ui"}}},
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway"}},
            "podSelector": {"matchLabels": {"app": "envoy"}},
        },
    ]
    assert scraper["from"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
        }
    ]
    # The named port reaches every engine (each names its API port `http`, also serving /metrics).
    for rule in spec["ingress"]:
        assert rule["ports"] == [{"protocol": "TCP", "port": "http"}]
    for dep in by_kind(objects, "Deployment"):
        ports = dep["spec"]["template"]["spec"]["containers"][0]["ports"]
        assert {"http"} <= {p["name"] for p in ports}


def test_empty_selector_maps_select_everything() -> None:
    md = manifest(
        networkPolicy={
            "enabled": True,
            "allowedClients": [{"namespaceSelector": {}}],
            "allowMetricsFrom": [{"podSelector": {}}],
        }
    )
    policy = only(render_valid(md, decision(assign(pool()))), "NetworkPolicy")
    assert policy["spec"]["ingress"][0]["from"] == [{"namespaceSelector": {}}]  # any pod in any namespace
    assert policy["spec"]["ingress"][1]["from"] == [{"podSelector": {}}]  # any pod in the md's namespace


def test_enabled_without_peers_admits_nothing() -> None:
    policy = only(render_valid(manifest(networkPolicy={"enabled": True}), decision(assign(pool()))), "NetworkPolicy")
    assert policy["spec"]["ingress"] == [] and policy["spec"]["policyTypes"] == ["Ingress"]
    md = manifest(networkPolicy={"enabled": True, "allowMetricsFrom": SCRAPER})
    policy = only(render_valid(md, decision(assign(pool()))), "NetworkPolicy")
    assert [r["from"] for r in policy["spec"]["ingress"]] == [
        [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
            }
        ]
    ]


@pytest.mark.parametrize("backend", [ScalingBackend.HPA, ScalingBackend.KEDA])
def test_policy_comes_after_the_pdb_and_before_the_autoscaler(backend: ScalingBackend) -> None:
    md = manifest(replicas=2, scaling=SCALING, networkPolicy={"enabled": True, "allowedClients": CLIENTS})
    objects = render_valid(md, decision(assign(pool(), 2)), owner_uid=UID, autoscaler=backend)
    kinds = [o["kind"] for o in objects]
    scaler = "HorizontalPodAutoscaler" if backend == ScalingBackend.HPA else "ScaledObject"
    assert kinds == ["Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy", scaler]


def test_name_follows_the_service_for_names_starting_with_a_digit() -> None:
    md = manifest("7b-chat", networkPolicy={"enabled": True})
    policy = build_network_policy(md, "vllm")
    assert policy is not None
    assert policy["metadata"]["name"] == service_name("7b-chat") != "7b-chat"
    assert policy["spec"]["podSelector"] == {"matchLabels": {MODEL_DEPLOYMENT: "7b-chat"}}
    assert "ownerReferences" not in policy["metadata"]  # offline render


def test_a_peer_without_selectors_is_rejected_by_the_model_and_the_crd() -> None:
    from support.crd_validation import admission_errors

    body = {
        "apiVersion": "genaiops.dev/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": "m", "namespace": "ml"},
        "spec": {
            "model": {"uri": "hf://meta-llama/Llama-3.1-8B-Instruct"},
            "networkPolicy": {"enabled": True, "allowedClients": [{}]},
        },
    }
    with pytest.raises(ValidationError, match="a peer needs namespaceSelector, podSelector or both"):
        ModelDeployment.model_validate(body)
    crd = yaml.safe_load(CRD.read_text(encoding="utf-8"))
    errors = admission_errors(crd, body)
    assert any("a peer needs namespaceSelector, podSelector or both" in e for e in errors), errors
    body["spec"]["networkPolicy"]["allowedClients"] = CLIENTS
    body["spec"]["networkPolicy"]["allowMetricsFrom"] = SCRAPER
    assert admission_errors(crd, body) == []
    ModelDeployment.model_validate(body)


def test_unknown_fields_and_bad_label_values_are_rejected() -> None:
    with pytest.raises(ValidationError):
        manifest(networkPolicy={"enabled": True, "allowedClients": [{"podSelectors": {"a": "b"}}]})
    with pytest.raises(ValidationError):
        manifest(networkPolicy={"enabled": True, "allowedClients": [{"podSelector": {"a": "x" * 64}}]})


def test_wire_form_round_trips_in_camel_case() -> None:
    md = manifest(networkPolicy={"enabled": True, "allowedClients": CLIENTS, "allowMetricsFrom": SCRAPER})
    assert md.spec.to_dict()["networkPolicy"] == {
        "enabled": True,
        "allowedClients": CLIENTS,
        "allowMetricsFrom": SCRAPER,
    }
