"""`spec.routing` of a ModelDeployment: inference-aware routing through the Gateway API Inference Extension.

Off when omitted: clients use the ModelDeployment's Service, which balances round-robin. On, the operator
renders an `InferencePool` (inference.networking.k8s.io/v1) over the ModelDeployment's pods in every pool,
an endpoint picker (EPP) that scores them (queue depth, KV-cache use, prefix-cache and LoRA affinity) and
holds requests in its flow-control queue while no replica can take them (scale from zero), and either an
`HTTPRoute` from a named Gateway to the pool or, where no Gateway runs (edge sites), the picker's
standalone mode: an Envoy proxy in the picker's pod, behind its own Service.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from genai_operator.api.base import NAME_MAX, NAME_PATTERN, ApiModel

SUBDOMAIN_MAX = 253
SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"


class RoutingMode(StrEnum):
    INFERENCE_POOL = "InferencePool"


class GatewayRef(ApiModel):
    """The Gateway (gateway.networking.k8s.io/v1) whose HTTPRoute sends this model's requests to the pool."""

    name: str = Field(max_length=SUBDOMAIN_MAX, pattern=SUBDOMAIN_PATTERN, description="The Gateway's name.")
    namespace: str | None = Field(
        default=None,
        max_length=NAME_MAX,
        pattern=NAME_PATTERN,
        description="The Gateway's namespace; unset: the ModelDeployment's. A Gateway in another namespace must "
        "allow routes from this one (listeners[].allowedRoutes.namespaces).",
    )
    section_name: str | None = Field(
        default=None,
        max_length=SUBDOMAIN_MAX,
        pattern=SUBDOMAIN_PATTERN,
        description="One listener of the Gateway (HTTPRoute parentRefs[].sectionName); unset: every listener "
        "that admits the route.",
    )


class Routing(ApiModel):
    """Inference-aware routing: an InferencePool, its endpoint picker, and a route or a standalone proxy."""

    mode: RoutingMode = Field(
        default=RoutingMode.INFERENCE_POOL,
        description="InferencePool: the Gateway API Inference Extension's InferencePool and endpoint picker.",
    )
    gateway: GatewayRef | None = Field(
        default=None,
        description="Route through this Gateway (an HTTPRoute with the InferencePool as backend). Unset: the "
        "standalone mode, an Envoy proxy next to the picker behind the Service <name>-epp, port 8081, for "
        "clusters without a Gateway (edge sites).",
    )
    failure_mode: Literal["FailClose", "FailOpen"] = Field(
        default="FailClose",
        description="What the proxy does when the picker does not answer: FailClose rejects the request, "
        "FailOpen forwards it to an endpoint of the proxy's choice (InferencePool endpointPickerRef.failureMode).",
    )
    queue_timeout_seconds: int | None = Field(
        default=None,
        ge=1,
        le=3600,
        description="How long the picker holds a request no replica can take (none ready, or all saturated) "
        "before it fails with 503: the flow-control queue's defaultRequestTTL. Unset: the model's cold-start "
        "budget (download plus load), so a request sent at zero replicas waits for the first one.",
    )
    request_timeout_seconds: int = Field(
        default=600,
        ge=10,
        le=86400,
        description="The longest a request may take once a replica serves it (generation time); the route's "
        "and the standalone proxy's timeout is this plus the queue timeout.",
    )
