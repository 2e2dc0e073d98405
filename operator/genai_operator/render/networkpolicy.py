"""The NetworkPolicy `<service name>` of a ModelDeployment with spec.networkPolicy.enabled.

It selects every pod of the ModelDeployment in all pools (the Service's selector) and allows ingress on
the named `http` port (every engine's API and /metrics port) from the declared clients and from the
metrics scraper, one rule each; with neither declared, `ingress: []` admits nothing. Only Ingress is in
policyTypes: egress stays open for weight downloads. Kubelet probes come from the node and are not
subject to the policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.network import NetworkPeer
from genai_operator.engines.base import PORT_NAME
from genai_operator.render.labels import md_selector
from genai_operator.render.metadata import shared_child_meta
from genai_operator.render.names import service_name


def _selector(labels: dict[str, str]) -> dict[str, Any]:
    """A LabelSelector; an empty map selects everything ({})."""
    return {"matchLabels": dict(sorted(labels.items()))} if labels else {}


def network_peer(peer: NetworkPeer) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if peer.namespace_selector is not None:
        out["namespaceSelector"] = _selector(peer.namespace_selector)
    if peer.pod_selector is not None:
        out["podSelector"] = _selector(peer.pod_selector)
    return out


def _rule(peers: Sequence[NetworkPeer]) -> dict[str, Any]:
    return {
        "from": [network_peer(p) for p in peers],
        "ports": [{"protocol": "TCP", "port": PORT_NAME}],
    }


def build_network_policy(
    md: ModelDeployment, engine_label: str, *, owner_uid: str | None = None
) -> dict[str, Any] | None:
    """None unless spec.networkPolicy.enabled."""
    policy = md.spec.network_policy
    if policy is None or not policy.enabled:
        return None
    name = md.metadata.name
    ingress = [_rule(peers) for peers in (policy.allowed_clients, policy.allow_metrics_from) if peers]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": shared_child_meta(md, service_name(name), engine_label, owner_uid=owner_uid),
        "spec": {
            "podSelector": {"matchLabels": md_selector(name)},
            "policyTypes": ["Ingress"],
            "ingress": ingress,
        },
    }
