"""The autoscaler of a ModelDeployment with spec.scaling: an HPA or a KEDA ScaledObject named `<md>`.

Both point scaleTargetRef at the ModelDeployment itself (genaiops.dev/v1alpha1, kind ModelDeployment), so
they change spec.replicas through the /scale subresource and the operator splits that count over the
pools; they never touch the pool Deployments directly. The caller resolves backend Auto (KEDA when it is
installed or when minReplicas is 0).

HPA metrics: the engine's queue, running-request or KV-cache series as Pods metrics (served by a custom
metrics adapter such as prometheus-adapter, which must expose them under these names), CPU as a Resource
metric, and GPU utilization as the dcgm-exporter series DCGM_FI_DEV_GPU_UTIL per pod. KV-cache usage is a
0..1 ratio in every engine, so the spec's percent target is divided by 100. An HPA cannot scale to zero,
so its minimum is at least 1.
"""

from __future__ import annotations

from typing import Any

from genai_operator.api.enums import ScalingBackend, ScalingMetric
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.scaling import Scaling
from genai_operator.formats.quantity import plain_number
from genai_operator.placement.types import PlacementDecision
from genai_operator.render.metadata import scale_target_ref, shared_child_meta
from genai_operator.render.names import autoscaler_name
from genai_operator.render.scaledobject import build_scaled_object
from genai_operator.render.signals import (
    GPU_UTIL_METRIC,
    EngineGroup,
    behavior,
    engine_groups,
    engine_metric,
    target,
)
from genai_operator.settings import Settings

DEFAULT_SETTINGS = Settings()


def build_autoscaler(
    md: ModelDeployment,
    decision: PlacementDecision,
    backend: ScalingBackend,
    engine_label: str,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    owner_uid: str | None = None,
) -> dict[str, Any] | None:
    if md.spec.scaling is None:
        return None
    if backend == ScalingBackend.HPA:
        return build_hpa(md, decision, engine_label, owner_uid=owner_uid)
    if backend == ScalingBackend.KEDA:
        return build_scaled_object(md, decision, engine_label, settings=settings, owner_uid=owner_uid)
    raise ValueError(f"{md.metadata.name}: resolve the autoscaler backend (HPA or KEDA) before rendering")


def build_hpa(
    md: ModelDeployment, decision: PlacementDecision, engine_label: str, *, owner_uid: str | None = None
) -> dict[str, Any]:
    scaling = md.spec.scaling
    if scaling is None:
        raise ValueError(f"{md.metadata.name}: spec.scaling is not set")
    name = md.metadata.name
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": shared_child_meta(md, autoscaler_name(name), engine_label, owner_uid=owner_uid),
        "spec": {
            "scaleTargetRef": scale_target_ref(name),
            "minReplicas": max(1, scaling.min_replicas),
            "maxReplicas": scaling.max_replicas,
            "metrics": hpa_metrics(scaling, engine_groups(md, decision)),
            "behavior": behavior(scaling),
        },
    }


def hpa_metrics(scaling: Scaling, groups: list[EngineGroup]) -> list[dict[str, Any]]:
    metric = scaling.metric
    value = target(scaling)
    if metric == ScalingMetric.CPU:
        utilization = {"type": "Utilization", "averageUtilization": max(1, int(value))}
        return [{"type": "Resource", "resource": {"name": "cpu", "target": utilization}}]
    if metric == ScalingMetric.GPU_UTILIZATION:
        names = [GPU_UTIL_METRIC]
    else:
        names = list(dict.fromkeys(engine_metric(g, metric) for g in groups))
        if metric == ScalingMetric.KV_CACHE_USAGE:
            value = value / 100
    average = {"type": "AverageValue", "averageValue": plain_number(value)}
    return [{"type": "Pods", "pods": {"metric": {"name": n}, "target": dict(average)}} for n in names]
