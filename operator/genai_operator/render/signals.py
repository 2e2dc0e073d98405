"""What autoscalers read: the engines of a ModelDeployment, their metric names, and scaling behaviour.

A ModelDeployment may run different engines on different pools (llama.cpp on the edge, vLLM in the
cloud); each exports its own metric names, so the autoscalers read one signal per engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from genai_operator.api.enums import Engine, ScalingMetric, Task
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.scaling import Scaling
from genai_operator.engines import EngineContext, EngineProfile, engine_profile
from genai_operator.formats.quantity import parse_quantity
from genai_operator.placement.types import PlacementDecision
from genai_operator.render.names import workload_name
from genai_operator.settings import Settings

GPU_UTIL_METRIC = "DCGM_FI_DEV_GPU_UTIL"  # NVIDIA dcgm-exporter, percent per GPU
DEFAULT_LOAD_SECONDS = 600
SCALE_UP_WINDOW_SECONDS = 30  # ignore a single-scrape spike; a new replica costs minutes of GPU time


class MetricUnavailableError(ValueError):
    """The engine exports no metric for the requested scaling signal; the message names alternatives."""


@dataclass(frozen=True)
class EngineGroup:
    """The pools of a ModelDeployment that run one engine."""

    profile: EngineProfile
    deployments: tuple[str, ...]


def engine_groups(md: ModelDeployment, decision: PlacementDecision) -> list[EngineGroup]:
    """Engines in pool order (primary first); the spec's engine (Auto: TEI for embedding and reranking,
    else vLLM) when nothing is placed."""
    groups: dict[Engine, list[str]] = {}
    for assignment in decision.assignments:
        name = workload_name(md.metadata.name, assignment.pool)
        groups.setdefault(assignment.engine, []).append(name)
    if not groups:
        auto = Engine.VLLM if md.spec.task == Task.TEXT_GENERATION else Engine.TEI
        groups[md.spec.engine if md.spec.engine != Engine.AUTO else auto] = []
    return [EngineGroup(engine_profile(engine), tuple(names)) for engine, names in groups.items()]


def engine_metric(group: EngineGroup, metric: ScalingMetric) -> str:
    name = group.profile.metrics.name_for(metric)
    if name is None:
        raise MetricUnavailableError(
            f"{group.profile.label} exports no {metric.value} metric: scale on QueueDepth or RunningRequests"
        )
    return name


def target(scaling: Scaling) -> Decimal:
    return parse_quantity(scaling.target)


def load_seconds(md: ModelDeployment, decision: PlacementDecision, settings: Settings) -> int:
    """The longest cold start among the pools: no scale-down decision should come before it."""
    budgets = [
        engine_profile(a.engine).plan(EngineContext(md.metadata.name, md.spec, a, settings)).startup_seconds
        for a in decision.assignments
    ]
    return max(budgets, default=DEFAULT_LOAD_SECONDS)


def behavior(scaling: Scaling) -> dict[str, Any]:
    """Scale up two replicas a minute at most, down one every two minutes after the stabilization window."""
    return {
        "scaleUp": {
            "stabilizationWindowSeconds": SCALE_UP_WINDOW_SECONDS,
            "selectPolicy": "Max",
            "policies": [{"type": "Pods", "value": 2, "periodSeconds": 60}],
        },
        "scaleDown": {
            "stabilizationWindowSeconds": scaling.scale_down_stabilization_seconds,
            "selectPolicy": "Max",
            "policies": [{"type": "Pods", "value": 1, "periodSeconds": 120}],
        },
    }
