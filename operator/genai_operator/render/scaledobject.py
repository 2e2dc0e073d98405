"""A KEDA ScaledObject `<md>` that scales the ModelDeployment (through /scale) on Prometheus queries.

Queries come from templates: Settings.metric_queries keyed by the Prometheus metric name (then by the
spec's metric, e.g. "QueueDepth"), else the defaults below. Tokens {metric}, {namespace}, {name} and
{selector} are substituted literally, so PromQL braces need no escaping. Selectors: vLLM and SGLang label
their series with the served model name (model_name="<md>"); llama.cpp, TEI and TGI series are picked by the
`service="<md>"` label a ServiceMonitor on the ModelDeployment's Service attaches.

Engine signals are summed over all pods and compared per replica (metricType AverageValue, which KEDA
divides by the replica count); KV-cache usage is scaled to percent so the spec's target reads as percent.
GPU utilization (dcgm-exporter) is averaged per GPU and compared as a Value. Fallback (keep at least the
current replicas when Prometheus is unreachable) is only set for AverageValue triggers, the only kind
KEDA allows it on.

Scale to zero: with no pod left the engine metrics are empty, so waking up needs a signal from outside
the pods (a gateway's request rate): spec.scaling.wakeUp, the endpoint picker's queue of held requests
with spec.routing, or the operator's wake-up query template (Settings.wake_query). It becomes a second
trigger that only activates (0 -> 1). Without one, the ScaledObject keeps one replica (minReplicaCount 1)
and the status says why. CPU-only scaling cannot reach zero in KEDA either. Warm standby keeps
warmStandby.replicas instead of zero; the wake-up trigger then only flips the ScaledObject's Active
condition, which the operator reads to put them to sleep and wake them (controller/standby_driver.py).
"""

from __future__ import annotations

from typing import Any

from genai_operator.api.enums import ScalingMetric
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.scaling import Scaling, standby_of
from genai_operator.formats.quantity import parse_quantity, plain_number
from genai_operator.placement.types import PlacementDecision
from genai_operator.render.metadata import md_namespace, scale_target_ref, shared_child_meta
from genai_operator.render.names import autoscaler_name, service_name
from genai_operator.render.routing import queue_query
from genai_operator.render.signals import (
    GPU_UTIL_METRIC,
    EngineGroup,
    behavior,
    engine_groups,
    engine_metric,
    load_seconds,
    target,
)
from genai_operator.settings import Settings

POLLING_SECONDS = 15
WAKE_ONLY_THRESHOLD = "1000000000"
MIN_COOLDOWN_SECONDS = 300
FALLBACK_FAILURES = 3
DEFAULT_QUERIES: dict[ScalingMetric, str] = {
    ScalingMetric.QUEUE_DEPTH: "sum({metric}{{selector}})",
    ScalingMetric.RUNNING_REQUESTS: "sum({metric}{{selector}})",
    ScalingMetric.KV_CACHE_USAGE: "sum({metric}{{selector}}) * 100",
    ScalingMetric.GPU_UTILIZATION: "avg({metric}{{selector}})",
}
TRIGGER_NAMES: dict[ScalingMetric, str] = {
    ScalingMetric.QUEUE_DEPTH: "queue-depth",
    ScalingMetric.RUNNING_REQUESTS: "running-requests",
    ScalingMetric.KV_CACHE_USAGE: "kv-cache-usage",
    ScalingMetric.GPU_UTILIZATION: "gpu-utilization",
}


def build_scaled_object(
    md: ModelDeployment,
    decision: PlacementDecision,
    engine_label: str,
    *,
    settings: Settings,
    owner_uid: str | None = None,
) -> dict[str, Any]:
    scaling = md.spec.scaling
    if scaling is None:
        raise ValueError(f"{md.metadata.name}: spec.scaling is not set")
    name = md.metadata.name
    groups = engine_groups(md, decision)
    trigger = keda_trigger(scaling, groups, namespace=md_namespace(md), name=name, settings=settings)
    wake = wake_signal(md, settings)
    # Scale to zero only with a wake-up signal that outlives the pods; otherwise keep one replica warm.
    can_sleep = trigger["type"] != "cpu" and wake is not None
    minimum = scaling.min_replicas if can_sleep else max(scaling.min_replicas, 1)
    if (standby := standby_of(scaling)) is not None:  # warm standby: kept asleep instead of none
        minimum = max(minimum, standby.replicas)
    spec: dict[str, Any] = {
        "scaleTargetRef": scale_target_ref(name),
        "pollingInterval": POLLING_SECONDS,
        "cooldownPeriod": max(MIN_COOLDOWN_SECONDS, scaling.scale_down_stabilization_seconds),
        "initialCooldownPeriod": load_seconds(md, decision, settings),
        "minReplicaCount": minimum,
        "maxReplicaCount": scaling.max_replicas,
    }
    if trigger.get("metricType") == "AverageValue":
        spec["fallback"] = {
            "failureThreshold": FALLBACK_FAILURES,
            "replicas": max(scaling.min_replicas, 1),
            "behavior": "currentReplicasIfHigher",
        }
    spec["advanced"] = {"horizontalPodAutoscalerConfig": {"behavior": behavior(scaling)}}
    spec["triggers"] = [trigger]
    if scaling.min_replicas == 0 and wake is not None:
        query, activation = wake
        spec["triggers"].append(
            {
                "type": "prometheus",
                "name": "wake-up",
                "metricType": "AverageValue",
                "metadata": {
                    "serverAddress": settings.prometheus_address,
                    "query": query,
                    # Activation only: the engine trigger sizes the replicas; this one just must not.
                    "threshold": WAKE_ONLY_THRESHOLD,
                    "activationThreshold": activation,
                },
            }
        )
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": shared_child_meta(md, autoscaler_name(name), engine_label, owner_uid=owner_uid),
        "spec": spec,
    }


def keda_trigger(
    scaling: Scaling, groups: list[EngineGroup], *, namespace: str, name: str, settings: Settings
) -> dict[str, Any]:
    metric = scaling.metric
    threshold = plain_number(target(scaling))
    if metric == ScalingMetric.CPU:
        value = str(max(1, int(target(scaling))))
        return {"type": "cpu", "name": "cpu", "metricType": "Utilization", "metadata": {"value": value}}
    if metric == ScalingMetric.GPU_UTILIZATION:
        deployments = "|".join(d for g in groups for d in g.deployments) or name
        selector = f'namespace="{namespace}",pod=~"({deployments})-.+"'
        query = render_query(settings, GPU_UTIL_METRIC, metric, namespace=namespace, name=name, selector=selector)
        metric_type = "Value"
    else:
        parts = [
            render_query(
                settings,
                engine_metric(g, metric),
                metric,
                namespace=namespace,
                name=name,
                selector=engine_selector(g, namespace, name),
            )
            for g in groups
        ]
        # `or vector(0)`: an engine with no pod yet yields an empty vector, which would empty the sum.
        query = parts[0] if len(parts) == 1 else " + ".join(f"({p} or vector(0))" for p in parts)
        metric_type = "AverageValue"
    return {
        "type": "prometheus",
        "name": TRIGGER_NAMES[metric],
        "metricType": metric_type,
        "metadata": {
            "serverAddress": settings.prometheus_address,
            "query": query,
            "threshold": threshold,
            "activationThreshold": "0",
        },
    }


def wake_signal(md: ModelDeployment, settings: Settings) -> tuple[str, str] | None:
    """(query, activation threshold) that wakes a scaled-to-zero ModelDeployment, or None when none is known."""
    scaling = md.spec.scaling
    if scaling is None:
        return None
    if scaling.wake_up is not None:
        return scaling.wake_up.query, plain_number(parse_quantity(scaling.wake_up.threshold))
    if md.spec.routing is not None:
        # The endpoint picker holds the requests no replica can take: its queue is the demand at zero.
        return queue_query(md), "0"
    if settings.wake_query:
        query = settings.wake_query
        for token, value in (
            ("{namespace}", md_namespace(md)),
            ("{name}", md.metadata.name),
            ("{service}", service_name(md.metadata.name)),
        ):
            query = query.replace(token, value)
        return query, "0"
    return None


def engine_selector(group: EngineGroup, namespace: str, name: str) -> str:
    label = group.profile.metrics.model_label
    if label:
        return f'namespace="{namespace}",{label}="{name}"'
    return f'namespace="{namespace}",service="{service_name(name)}"'


def render_query(
    settings: Settings, metric_name: str, metric: ScalingMetric, *, namespace: str, name: str, selector: str
) -> str:
    template = (
        settings.metric_queries.get(metric_name) or settings.metric_queries.get(metric.value) or DEFAULT_QUERIES[metric]
    )
    for token, value in (
        ("{metric}", metric_name),
        ("{namespace}", namespace),
        ("{name}", name),
        ("{selector}", selector),
    ):
        template = template.replace(token, value)
    return template
