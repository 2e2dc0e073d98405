"""Routing children of a ModelDeployment with spec.routing: the InferencePool `<md>`, its endpoint picker
`<md>-epp` (ServiceAccount, Role, RoleBinding, Deployment, Service) and the HTTPRoute `<md>` to the named
Gateway, or, without a Gateway, the picker's standalone Envoy behind the Service `<md>-epp` port 8081.

The InferencePool selects the ModelDeployment's pods in every pool (the same selector as the Service and
status.selector) on the engines' port. Which replica serves a request is the picker's choice
(render/endpoint_picker.py); the plain Service keeps its trafficDistribution: PreferClose for clients that
use it directly.
"""

from __future__ import annotations

from typing import Any

from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.routing import Routing
from genai_operator.formats.dns_names import fit_name
from genai_operator.placement.types import PlacementDecision
from genai_operator.render.api_checks import RejectedObjectError
from genai_operator.render.endpoint_picker import (
    ROUTER_COMPONENT,
    ROUTER_LABEL,
    inference_pool,
    picker_config,
    picker_container,
    picker_deployment,
    picker_identity,
    picker_labels,
    picker_service,
)
from genai_operator.render.labels import COMPONENT, md_selector
from genai_operator.render.metadata import md_namespace, object_meta
from genai_operator.render.names import service_name, workload_name
from genai_operator.render.router_proxy import PROXY_PORT, envoy_config, proxy_container, proxy_service_port
from genai_operator.render.service import SERVICE_PORT
from genai_operator.render.signals import engine_groups, load_seconds
from genai_operator.render.site_routing import build_site_routing, site_assignments, site_picker_name
from genai_operator.settings import Settings

QUEUE_METRIC = "inference_extension_flow_control_queue_size"


def pool_name(md_name: str) -> str:
    return md_name


def picker_name(md_name: str) -> str:
    """`<md>-epp`; a Service name, so it starts with a letter like the model's Service."""
    return fit_name(service_name(md_name), "epp")


def queue_seconds(md: ModelDeployment, decision: PlacementDecision, settings: Settings) -> int:
    """How long the picker holds a request: spec.routing.queueTimeoutSeconds, else the cold-start budget."""
    routing = md.spec.routing
    if routing is not None and routing.queue_timeout_seconds is not None:
        return routing.queue_timeout_seconds
    return load_seconds(md, decision, settings)


def routed_endpoint(md: ModelDeployment, routing: Routing, cluster_domain: str) -> str:
    """status.endpoint with routing on: the standalone proxy's Service, or the Gateway that routes."""
    namespace = md_namespace(md)
    if routing.gateway is None:
        return f"http://{picker_name(md.metadata.name)}.{namespace}.{cluster_domain}:{PROXY_PORT}/v1"
    gateway_ns = routing.gateway.namespace or namespace
    # The Gateway's address is in its own status.addresses, which the operator does not read.
    return f"gateway://{gateway_ns}/{routing.gateway.name}/v1"


def queue_query(md: ModelDeployment) -> str:
    """PromQL of the requests the picker holds for this pool: non-empty while no replica runs."""
    namespace = md_namespace(md)
    return f'sum({QUEUE_METRIC}{{namespace="{namespace}",inference_pool="{pool_name(md.metadata.name)}"}})'


def build_routing(
    md: ModelDeployment,
    decision: PlacementDecision,
    *,
    settings: Settings,
    owner_uid: str | None,
    monitor: bool = False,
) -> list[dict[str, Any]]:
    """`monitor`: a ServiceMonitor for the picker's metrics too (its queue wakes KEDA from zero)."""
    routing = md.spec.routing
    if routing is None:
        return []
    name = md.metadata.name
    namespace = md_namespace(md)
    picker = picker_name(name)
    workloads = {workload_name(name, a.pool) for a in decision.assignments}
    for taken in sorted({picker, *(site_picker_name(name, a.pool.name) for a in site_assignments(decision))}):
        if taken in workloads:
            raise RejectedObjectError(
                f"Deployment {taken}: the endpoint picker's name is taken by the pool of the same name; "
                "rename that PlacementPool or the ModelDeployment"
            )
    held = queue_seconds(md, decision, settings)
    total = held + routing.request_timeout_seconds
    profiles = [g.profile for g in engine_groups(md, decision)]
    containers = [picker_container(pool_name(name), namespace, picker_config(md, profiles, held))]
    extra_ports: list[dict[str, Any]] = []
    if routing.gateway is None:
        containers.insert(0, proxy_container(envoy_config(total)))
        extra_ports.append(proxy_service_port())
    objects = picker_identity(picker, namespace, name, owner_uid)
    objects.append(picker_deployment(picker, namespace, name, containers, owner_uid))
    objects.append(picker_service(picker, namespace, name, extra_ports, owner_uid))
    pool = inference_pool(
        md, routing, picker, owner_uid, name=pool_name(name), labels=picker_labels(name), pods=md_selector(name)
    )
    objects.append(pool)
    if routing.gateway is not None:
        objects.append(http_route(md, routing, total, owner_uid))
    if monitor:
        objects.append(picker_monitor(picker, namespace, name, owner_uid))
    objects += build_site_routing(
        md,
        decision,
        settings=settings,
        owner_uid=owner_uid,
        service_account=picker,
        fallback=fallback_target(md, settings.cluster_domain),
        fallback_seconds=total,
    )
    return objects


def fallback_target(md: ModelDeployment, cluster_domain: str) -> tuple[str, int]:
    """Where a site proxy sends what its site cannot serve: the global proxy, or, when a Gateway routes
    (whose address the operator does not read), the model's Service across every pool."""
    namespace = md_namespace(md)
    routing = md.spec.routing
    if routing is not None and routing.gateway is None:
        return f"{picker_name(md.metadata.name)}.{namespace}.{cluster_domain}", PROXY_PORT
    return f"{service_name(md.metadata.name)}.{namespace}.{cluster_domain}", SERVICE_PORT


def picker_monitor(picker: str, namespace: str, md_name: str, owner_uid: str | None) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": object_meta(picker, namespace, picker_labels(md_name), md_name=md_name, owner_uid=owner_uid),
        "spec": {
            "selector": {"matchLabels": {ROUTER_LABEL: md_name, COMPONENT: ROUTER_COMPONENT}},
            "namespaceSelector": {"matchNames": [namespace]},
            "endpoints": [{"port": "http-metrics", "path": "/metrics", "interval": "15s", "scheme": "http"}],
        },
    }


def http_route(md: ModelDeployment, routing: Routing, total_seconds: int, owner_uid: str | None) -> dict[str, Any]:
    gateway = routing.gateway
    if gateway is None:
        raise ValueError("an HTTPRoute needs spec.routing.gateway")
    name = md.metadata.name
    namespace = md_namespace(md)
    parent: dict[str, Any] = {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": gateway.name}
    if gateway.namespace and gateway.namespace != namespace:
        parent["namespace"] = gateway.namespace
    if gateway.section_name:
        parent["sectionName"] = gateway.section_name
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": object_meta(name, namespace, picker_labels(name), md_name=name, owner_uid=owner_uid),
        "spec": {
            "parentRefs": [parent],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [
                        {"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": pool_name(name)}
                    ],
                    # Queue time plus generation: the Gateway must not cut off a request the picker holds.
                    "timeouts": {"request": f"{total_seconds}s"},
                }
            ],
        },
    }
