"""Which autoscaler a ModelDeployment gets on this cluster, and the AutoscalerReady condition (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from genai_operator.api.enums import ScalingBackend
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.scaling import standby_of
from genai_operator.render.scaledobject import wake_signal
from genai_operator.settings import Settings


@dataclass(frozen=True)
class AutoscalerChoice:
    backend: ScalingBackend | None  # what to render; None: no autoscaler object
    ready: bool | None = None  # AutoscalerReady status; None: no condition (no scaling spec)
    reason: str = ""
    message: str = ""


def choose_autoscaler(md: ModelDeployment, *, keda_available: bool, settings: Settings) -> AutoscalerChoice:
    """Auto takes KEDA when it is installed or when minReplicas is 0, else HPA; a backend the cluster lacks
    is reported, not rendered (the replicas stay as spec.replicas says)."""
    scaling = md.spec.scaling
    if scaling is None:
        return AutoscalerChoice(backend=None)
    backend = scaling.backend
    if backend == ScalingBackend.AUTO:
        backend = ScalingBackend.KEDA if keda_available or scaling.min_replicas == 0 else ScalingBackend.HPA
    if backend == ScalingBackend.KEDA and not keda_available:
        why = "minReplicas 0 needs KEDA" if scaling.backend == ScalingBackend.AUTO else "scaling.backend is KEDA"
        return AutoscalerChoice(
            None,
            False,
            "KEDANotInstalled",
            f"{why}, whose CRDs are not installed; install KEDA or set scaling.backend: HPA with minReplicas >= 1",
        )
    if backend == ScalingBackend.KEDA and scaling.min_replicas == 0 and wake_signal(md, settings) is None:
        return AutoscalerChoice(
            backend,
            False,
            "NoWakeUpSignal",
            "minReplicas 0 needs a signal that exists while no replica runs: set "
            "scaling.wakeUp.query (e.g. the gateway's request rate) or the operator's "
            "wake-up query; until then one replica is kept",
        )
    if (standby := standby_of(scaling)) is not None:
        return AutoscalerChoice(
            backend,
            True,
            "KEDAConfigured",
            f"KEDA scales spec.replicas via /scale down to {standby.replicas} replica(s) kept asleep while idle "
            "(warm standby); its Active condition wakes them",
        )
    if scaling.min_replicas == 0:
        return AutoscalerChoice(
            backend,
            True,
            "KEDAConfigured",
            "KEDA scales spec.replicas via /scale, down to zero; the wake-up query starts the first replica",
        )
    return AutoscalerChoice(
        backend,
        True,
        f"{backend.value}Configured",
        f"{backend.value} scales spec.replicas via /scale between {scaling.min_replicas} and {scaling.max_replicas}",
    )
