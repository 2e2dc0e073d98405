"""Status shapes shared by both kinds: conditions in the exact metav1.Condition form."""

from __future__ import annotations

from pydantic import Field

from genai_operator.api.base import ApiModel
from genai_operator.api.enums import ConditionStatus

# Condition types of a ModelDeployment.
READY = "Ready"
PROGRESSING = "Progressing"
DEGRADED = "Degraded"
SPEC_VALID = "SpecValid"
PLACED = "Placed"
AUTOSCALER_READY = "AutoscalerReady"
MODEL_LOADED = "ModelLoaded"
ROUTING_READY = "RoutingReady"


class Condition(ApiModel):
    """One observation of the object's state; see metav1.Condition."""

    type: str = Field(
        description="Type of the condition, in CamelCase: Ready, Progressing, Degraded, SpecValid, Placed, "
        "AutoscalerReady, ModelLoaded, RoutingReady.",
        max_length=316,
        pattern=r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
        r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
    )
    status: ConditionStatus = Field(description="Status of the condition: True, False or Unknown.")
    reason: str = Field(
        description="A CamelCase, machine-readable reason for the last transition.",
        min_length=1,
        max_length=1024,
        pattern=r"^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
    )
    message: str = Field(default="", description="A human-readable explanation of the transition.", max_length=32768)
    last_transition_time: str = Field(
        description="When the status last changed (RFC 3339); unchanged when only reason or message change.",
        json_schema_extra={"format": "date-time"},
    )
    observed_generation: int | None = Field(
        default=None, ge=0, description="The .metadata.generation the condition was computed from."
    )
