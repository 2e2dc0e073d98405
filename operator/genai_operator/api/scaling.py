"""Autoscaling of a ModelDeployment: the `spec.scaling` models (an HPA or KEDA owns spec.replicas)."""

from __future__ import annotations

from pydantic import Field, model_validator

from genai_operator.api.base import ApiModel
from genai_operator.api.cel import rule, validations
from genai_operator.api.enums import Engine, ScalingBackend, ScalingMetric
from genai_operator.api.standby import WarmStandby

QUANTITY_PATTERN = r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$"


class WakeUp(ApiModel):
    """A scale-from-zero signal that exists while no replica runs (engine metrics vanish with the last pod)."""

    query: str = Field(
        max_length=2048,
        min_length=1,
        description="PromQL returning the demand seen outside the pods, e.g. the gateway's request rate for "
        'this model: sum(rate(nginx_ingress_controller_requests{exported_service="m"}[2m])).',
    )
    threshold: str = Field(
        default="0",
        max_length=32,
        pattern=QUANTITY_PATTERN,
        description="The query value above which the first replica starts (KEDA activationThreshold).",
    )


# Warm standby replaces scale to zero, and needs KEDA: its ScaledObject's Active condition wakes the replicas.
STANDBY_NEEDS_ZERO = "scaling.warmStandby replaces scale to zero: set scaling.minReplicas to 0"
STANDBY_NEEDS_KEDA = (
    "scaling.warmStandby is woken by KEDA's Active condition: set scaling.backend to KEDA or Auto, "
    "or remove warmStandby"
)
STANDBY_ABOVE_MAX = "scaling.warmStandby.replicas must not exceed scaling.maxReplicas"
STANDBY_RULES = (
    rule(
        "!has(self.warmStandby) || !self.warmStandby.enabled || self.minReplicas == 0",
        STANDBY_NEEDS_ZERO,
        field_path=".warmStandby",
    ),
    rule(
        "!has(self.warmStandby) || !self.warmStandby.enabled || self.backend != 'HPA'",
        STANDBY_NEEDS_KEDA,
        field_path=".warmStandby",
    ),
    rule(
        "!has(self.warmStandby) || self.warmStandby.replicas <= self.maxReplicas",
        STANDBY_ABOVE_MAX,
        field_path=".warmStandby.replicas",
    ),
)


class Scaling(ApiModel):
    """Autoscaling; when set, an autoscaler owns spec.replicas through the /scale subresource."""

    model_config = {
        **ApiModel.model_config,
        "json_schema_extra": validations(
            rule(
                "self.minReplicas <= self.maxReplicas",
                "scaling.minReplicas must be less than or equal to scaling.maxReplicas",
                field_path=".minReplicas",
            ),
            rule(
                "self.minReplicas > 0 || self.backend != 'HPA'",
                "an HPA cannot scale to zero: set backend KEDA (or Auto) or minReplicas >= 1",
                field_path=".backend",
            ),
            *STANDBY_RULES,
        ),
    }

    min_replicas: int = Field(default=1, ge=0, le=1000, description="Lowest replica count; 0 scales to zero (KEDA).")
    max_replicas: int = Field(ge=1, le=1000, description="Highest replica count.")
    metric: ScalingMetric = Field(
        default=ScalingMetric.QUEUE_DEPTH,
        description="Signal to scale on: QueueDepth, RunningRequests, KVCacheUsage, CPU or GPUUtilization.",
    )
    target: str = Field(
        default="4",
        max_length=32,
        pattern=QUANTITY_PATTERN,
        description="Target value per replica (requests for queue metrics, percent for usage metrics).",
    )
    backend: ScalingBackend = Field(
        default=ScalingBackend.AUTO, description="Auto (KEDA when installed or when minReplicas is 0), HPA or KEDA."
    )
    wake_up: WakeUp | None = Field(
        default=None,
        description="With minReplicas 0: the signal that scales up from zero; defaults to the operator's "
        "wake-up query template. Without either, the autoscaler keeps one replica.",
    )
    scale_down_stabilization_seconds: int = Field(default=300, ge=0, le=3600, description="Wait before scaling down.")
    warm_standby: WarmStandby | None = Field(
        default=None,
        description="vLLM only, with minReplicas 0 and KEDA: keep warmStandby.replicas loaded but asleep instead of "
        "none (weights in CPU memory, woken in seconds by the autoscaler's signal).",
    )

    @model_validator(mode="after")
    def _bounds(self) -> Scaling:
        if self.min_replicas > self.max_replicas:
            raise ValueError("scaling.minReplicas must be less than or equal to scaling.maxReplicas")
        if self.min_replicas == 0 and self.backend == ScalingBackend.HPA:
            raise ValueError("an HPA cannot scale to zero: set backend KEDA (or Auto) or minReplicas >= 1")
        standby = self.warm_standby
        if standby is not None and standby.enabled and self.min_replicas != 0:
            raise ValueError(STANDBY_NEEDS_ZERO)
        if standby is not None and standby.enabled and self.backend == ScalingBackend.HPA:
            raise ValueError(STANDBY_NEEDS_KEDA)
        if standby is not None and standby.replicas > self.max_replicas:
            raise ValueError(STANDBY_ABOVE_MAX)
        return self


STANDBY_NEEDS_VLLM = (
    "scaling.warmStandby uses vLLM's sleep mode: set engine to VLLM (or Auto on GPU pools), or remove warmStandby"
)
# On ModelDeploymentSpec: the engine is a sibling of spec.scaling.
STANDBY_SPEC_RULES = (
    rule(
        "!has(self.scaling) || !has(self.scaling.warmStandby) || !self.scaling.warmStandby.enabled "
        "|| self.engine in ['Auto', 'VLLM']",
        STANDBY_NEEDS_VLLM,
        field_path=".scaling.warmStandby",
    ),
)


def standby_engine_problem(engine: Engine, scaling: Scaling | None) -> str:
    """The CEL rule above, in Python: '' when the engine can serve warm standby."""
    return STANDBY_NEEDS_VLLM if standby_of(scaling) and engine not in (Engine.AUTO, Engine.VLLM) else ""


def standby_of(scaling: Scaling | None) -> WarmStandby | None:
    """The warm standby in force: set and enabled, else None."""
    standby = scaling.warm_standby if scaling is not None else None
    return standby if standby is not None and standby.enabled else None
