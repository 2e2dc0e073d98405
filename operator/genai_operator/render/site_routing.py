"""Site-first routing: one routing unit per edge pool with replicas, beside the global one (render/routing.py).

The picker v1.5.0 has no locality scorer, so locality comes from the pool: each edge pool `<pool>` with
replicas gets an InferencePool `<md>-<pool>` over that pool's pods only (the genaiops.dev/pool label
they carry), its own picker `<md>-<pool>-epp` and a site proxy (render/site_proxy.py) in the picker's pod,
scheduled where the pool's replicas run (the pool's nodeSelector, GPU affinity and tolerations, as the
model's pods get them). Clients at the site call `http://<md>-<pool>-epp.<ns>.svc:8081/v1`
(status.siteEndpoints): requests go to the site's replicas without crossing the WAN, and when the site
has none ready the proxy retries once on the global routing endpoint (status.endpoint).

The site picker reuses the global picker's ServiceAccount, whose Role already reads the namespace's pods,
InferencePools and objectives: no grant is added. Its objects carry app.kubernetes.io/component:
site-router, so the global picker's Deployment and Service selectors never match a site picker's pods.
"""

from __future__ import annotations

from typing import Any

from genai_operator.api.enums import Tier
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.engines import EngineContext, engine_profile
from genai_operator.formats.dns_names import fit_name
from genai_operator.placement.types import PlacementDecision, PoolAssignment
from genai_operator.render.endpoint_picker import (
    ROUTER_LABEL,
    inference_pool,
    picker_config,
    picker_container,
    picker_deployment,
    picker_labels,
    picker_service,
)
from genai_operator.render.labels import COMPONENT, POOL, pool_selector
from genai_operator.render.metadata import md_namespace
from genai_operator.render.names import service_name
from genai_operator.render.pod_template import pool_scheduling
from genai_operator.render.router_proxy import PROXY_PORT, proxy_container, proxy_service_port
from genai_operator.render.site_proxy import site_envoy_config
from genai_operator.settings import Settings

SITE_COMPONENT = "site-router"


def site_assignments(decision: PlacementDecision) -> list[PoolAssignment]:
    """The pools that get a site unit: edge pools with replicas, in pool order."""
    return [a for a in decision.assignments if a.pool.tier == Tier.EDGE and a.replicas > 0]


def site_pool_name(md_name: str, pool: str) -> str:
    return fit_name(md_name, pool)


def site_picker_name(md_name: str, pool: str) -> str:
    """`<md>-<pool>-epp`: a Service name, so it starts with a letter like the model's Service."""
    return fit_name(service_name(md_name), pool, "epp")


def site_endpoints(md: ModelDeployment, decision: PlacementDecision, cluster_domain: str) -> list[dict[str, str]]:
    """status.siteEndpoints: each site proxy's address, by pool."""
    namespace = md_namespace(md)
    return [
        {
            "pool": a.pool.name,
            "endpoint": f"http://{site_picker_name(md.metadata.name, a.pool.name)}.{namespace}.{cluster_domain}"
            f":{PROXY_PORT}/v1",
        }
        for a in site_assignments(decision)
    ]


def site_labels(md_name: str, pool: str, *, pod: bool = False) -> dict[str, str]:
    return {**picker_labels(md_name, pod=pod), COMPONENT: SITE_COMPONENT, POOL: pool}


def site_selector(md_name: str, pool: str) -> dict[str, str]:
    return {ROUTER_LABEL: md_name, COMPONENT: SITE_COMPONENT, POOL: pool}


def build_site_routing(
    md: ModelDeployment,
    decision: PlacementDecision,
    *,
    settings: Settings,
    owner_uid: str | None,
    service_account: str,
    fallback: tuple[str, int],
    fallback_seconds: int,
) -> list[dict[str, Any]]:
    """Deployment, Service and InferencePool per site. `service_account`: the global picker's;
    `fallback`: the global routing endpoint's host and port, and `fallback_seconds` its timeout."""
    routing = md.spec.routing
    if routing is None:
        return []
    objects: list[dict[str, Any]] = []
    for assignment in site_assignments(decision):
        objects += _site_unit(md, assignment, settings, owner_uid, service_account, fallback, fallback_seconds)
    return objects


def _site_unit(
    md: ModelDeployment,
    assignment: PoolAssignment,
    settings: Settings,
    owner_uid: str | None,
    service_account: str,
    fallback: tuple[str, int],
    fallback_seconds: int,
) -> list[dict[str, Any]]:
    routing = md.spec.routing
    assert routing is not None  # build_site_routing checked
    name = md.metadata.name
    namespace = md_namespace(md)
    pool = assignment.pool.name
    picker = site_picker_name(name, pool)
    site_pool = site_pool_name(name, pool)
    # No queue time: a site without a ready replica answers at once, and its proxy falls back.
    config = picker_config(md, [engine_profile(assignment.engine)], None)
    envoy = site_envoy_config(routing.request_timeout_seconds, fallback_seconds, fallback)
    containers = [proxy_container(envoy), picker_container(site_pool, namespace, config)]
    labels = site_labels(name, pool)
    selector = site_selector(name, pool)

    deployment = picker_deployment(picker, namespace, name, containers, owner_uid)
    deployment["metadata"]["labels"] = dict(labels)
    deployment["spec"]["selector"] = {"matchLabels": dict(selector)}
    template = deployment["spec"]["template"]
    template["metadata"]["labels"] = site_labels(name, pool, pod=True)
    template["spec"]["serviceAccountName"] = service_account
    template["spec"].update(site_scheduling(md, assignment, settings))

    service = picker_service(picker, namespace, name, [proxy_service_port()], owner_uid)
    service["metadata"]["labels"] = dict(labels)
    service["spec"]["selector"] = dict(selector)

    pool_object = inference_pool(
        md, routing, picker, owner_uid, name=site_pool, labels=dict(labels), pods=pool_selector(name, pool)
    )
    return [deployment, service, pool_object]


def site_scheduling(md: ModelDeployment, assignment: PoolAssignment, settings: Settings) -> dict[str, Any]:
    """Where the site's picker runs: on the pool's nodes, as the model's pods there (render/pod_template.py)."""
    ctx = EngineContext(name=md.metadata.name, spec=md.spec, assignment=assignment, settings=settings)
    return pool_scheduling(ctx, ctx.pool.arch)
