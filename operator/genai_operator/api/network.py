"""`spec.networkPolicy` of a ModelDeployment: an optional NetworkPolicy that admits only declared clients.

When enabled, the operator creates a networking.k8s.io/v1 NetworkPolicy named like the Service that
selects every pod of the ModelDeployment (all pools) and allows ingress on the engine's `http` port only
from `allowedClients` and `allowMetricsFrom` (the Prometheus that scrapes `/metrics`, which the engines
serve on the same port). Everything else that reaches those pods is dropped by the CNI; egress is left
open (engines download weights from hf://, s3://, gs:// ...). Enabled with both lists empty, the pods
accept no traffic at all.

A peer follows NetworkPolicyPeer, with label maps for selectors: `podSelector` alone means those pods in
the ModelDeployment's namespace; `namespaceSelector` alone means every pod in the matching namespaces
(`{}`: all namespaces); both mean the matching pods in the matching namespaces.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from genai_operator.api.base import LABEL_KEY_PATTERN, LABEL_VALUE_PATTERN, LIST_MAX, ApiModel
from genai_operator.api.cel import rule, validations

# Keys and values as the API server validates a label selector; the CRD checks values, the operator's
# validation both (structural schemas cannot constrain map keys), so a bad selector is SpecValid=False.
LabelKey = Annotated[str, Field(max_length=317, pattern=LABEL_KEY_PATTERN)]
LabelValue = Annotated[str, Field(max_length=63, pattern=LABEL_VALUE_PATTERN)]
LabelMap = dict[LabelKey, LabelValue]
SELECTOR_MAX = 16


class NetworkPeer(ApiModel):
    """A source of traffic: pods by labels, namespaces by labels, or both (like a NetworkPolicyPeer)."""

    model_config = {
        **ApiModel.model_config,
        "json_schema_extra": validations(
            rule(
                "has(self.namespaceSelector) || has(self.podSelector)",
                "a peer needs namespaceSelector, podSelector or both ({} selects everything)",
            )
        ),
    }

    namespace_selector: LabelMap | None = Field(
        default=None,
        max_length=SELECTOR_MAX,
        description="Labels of the namespaces the traffic may come from ({}: every namespace); omit for the "
        "ModelDeployment's own namespace. Namespaces carry kubernetes.io/metadata.name: <name>.",
    )
    pod_selector: LabelMap | None = Field(
        default=None,
        max_length=SELECTOR_MAX,
        description="Labels of the pods the traffic may come from; omit for every pod of the selected namespaces.",
    )

    @model_validator(mode="after")
    def _some_selector(self) -> NetworkPeer:
        if self.namespace_selector is None and self.pod_selector is None:
            raise ValueError("a peer needs namespaceSelector, podSelector or both ({} selects everything)")
        for key in (*(self.namespace_selector or {}), *(self.pod_selector or {})):
            prefix, _, name = key.rpartition("/")
            if len(name) > 63 or len(prefix) > 253:
                raise ValueError(f"label key {key!r}: the name part takes at most 63 characters, the prefix 253")
        return self


class NetworkPolicySpec(ApiModel):
    """An ingress NetworkPolicy for the ModelDeployment's pods (needs a CNI that enforces NetworkPolicy)."""

    enabled: bool = Field(default=False, description="Create the NetworkPolicy; without it all ingress is allowed.")
    allowed_clients: list[NetworkPeer] = Field(
        default_factory=list,
        max_length=LIST_MAX,
        description="Who may call the model's API (the Service's http port).",
    )
    allow_metrics_from: list[NetworkPeer] = Field(
        default_factory=list,
        max_length=LIST_MAX,
        description="The metrics scraper (e.g. Prometheus, which KEDA queries). Engines serve /metrics on "
        "the API port, so these peers can reach the API too.",
    )
