"""The ClusterIP Service `<md>` on port 8000: one stable OpenAI-compatible endpoint across all pools.

Every engine listens on spec.serving.port under the port name `http`, so the named targetPort reaches
pods of any engine in any pool. With replicas on an edge pool the Service prefers endpoints close to the
client (trafficDistribution: PreferClose, GA in Kubernetes 1.33): a store's request stays in the store
while local replicas are ready, and spills to the cloud pool only when they are not.
"""

from __future__ import annotations

from typing import Any

from genai_operator.api.enums import Tier
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.engines.base import PORT_NAME
from genai_operator.placement.types import PlacementDecision
from genai_operator.render.labels import md_selector
from genai_operator.render.metadata import shared_child_meta
from genai_operator.render.names import service_name

SERVICE_PORT = 8000


def build_service(
    md: ModelDeployment, decision: PlacementDecision, engine_label: str, *, owner_uid: str | None = None
) -> dict[str, Any]:
    name = md.metadata.name
    spec: dict[str, Any] = {
        "type": "ClusterIP",
        "selector": md_selector(name),
        "ports": [
            {"name": PORT_NAME, "port": SERVICE_PORT, "targetPort": PORT_NAME, "protocol": "TCP", "appProtocol": "http"}
        ],
    }
    if any(a.pool.tier == Tier.EDGE for a in decision.assignments):
        spec["trafficDistribution"] = "PreferClose"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": shared_child_meta(md, service_name(name), engine_label, owner_uid=owner_uid),
        "spec": spec,
    }
