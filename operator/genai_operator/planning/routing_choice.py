"""Whether a ModelDeployment's spec.routing can be rendered on this cluster, and the RoutingReady condition.

Like the autoscaler choice: the APIs routing needs are discovered at start and on every resync
(controller/reconciler.py); one the cluster lacks is reported with what to install, and nothing routing
is rendered (clients keep the plain Service) until discovery finds it. No error, no retry loop.
"""

from __future__ import annotations

from dataclasses import dataclass

from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.render.names import service_name
from genai_operator.render.router_proxy import PROXY_PORT
from genai_operator.render.routing import picker_name

GIE_VERSION = "v1.5.0"
GATEWAY_API_VERSION = "v1.6.1"
INFERENCE_POOL_CRD = (
    f"https://github.com/kubernetes-sigs/gateway-api-inference-extension/releases/download/{GIE_VERSION}/manifests.yaml"
)
GATEWAY_API_CRDS = (
    f"https://github.com/kubernetes-sigs/gateway-api/releases/download/{GATEWAY_API_VERSION}/standard-install.yaml"
)


@dataclass(frozen=True)
class RoutingChoice:
    render: bool  # render the routing children
    ready: bool | None = None  # RoutingReady; None: no condition (routing off)
    reason: str = ""
    message: str = ""


def choose_routing(md: ModelDeployment, *, inference_pools: bool, gateway_api: bool) -> RoutingChoice:
    routing = md.spec.routing
    if routing is None:
        return RoutingChoice(render=False)
    service = service_name(md.metadata.name)
    if not inference_pools:
        return RoutingChoice(
            False,
            False,
            "InferencePoolCrdMissing",
            "spec.routing needs the InferencePool CRD (inference.networking.k8s.io/v1), which is not installed: "
            f"kubectl apply -f {INFERENCE_POOL_CRD}; until then clients reach the Service {service} round-robin",
        )
    if routing.gateway is not None and not gateway_api:
        return RoutingChoice(
            False,
            False,
            "GatewayApiCrdMissing",
            "spec.routing.gateway needs the Gateway API HTTPRoute CRD (gateway.networking.k8s.io/v1), which is not "
            f"installed: kubectl apply -f {GATEWAY_API_CRDS} and a Gateway implementation that supports "
            f"InferencePool backends, or remove spec.routing.gateway for the standalone proxy; until then clients "
            f"reach the Service {service} round-robin",
        )
    if routing.gateway is not None:
        gateway = f"{routing.gateway.namespace or md.metadata.namespace or 'default'}/{routing.gateway.name}"
        return RoutingChoice(
            True,
            True,
            "GatewayRouted",
            f"the Gateway {gateway} routes to the InferencePool {md.metadata.name} through its endpoint picker",
        )
    return RoutingChoice(
        True,
        True,
        "StandaloneProxy",
        f"the endpoint picker's proxy (Service {picker_name(md.metadata.name)}, port {PROXY_PORT}) routes to the "
        f"InferencePool "
        f"{md.metadata.name}",
    )
