"""Status of a ModelDeployment whose plan needs an API the cluster lacks (multi-node without LWS).

The plan is reported as made (status.sizing and status.placement say what a group would be), with
Placed=False naming what to install, Ready and Progressing False, Degraded True.
"""

from __future__ import annotations

from typing import Any

from genai_operator.api.conditions import DEGRADED, PLACED, PROGRESSING, READY
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.placement.types import PlacementDecision
from genai_operator.settings import Settings
from genai_operator.status.conditions import condition, merge_conditions
from genai_operator.status.model_deployment import build_status

_KEYS = ("type", "status", "reason", "message")


def missing_api_status(
    md: ModelDeployment,
    decision: PlacementDecision,
    reason: str,
    message: str,
    *,
    generation: int | None,
    now: str,
    settings: Settings,
) -> dict[str, Any]:
    status = build_status(md, decision, {}, generation=generation, now=now, settings=settings)
    status.pop("endpoint", None)  # nothing serves it
    override = {
        PLACED: condition(PLACED, False, reason, message),
        READY: condition(READY, False, reason, "nothing is rendered until the API is installed"),
        PROGRESSING: condition(PROGRESSING, False, reason, "waiting for the API"),
        DEGRADED: condition(DEGRADED, True, reason, message),
    }
    new = [override.get(c["type"], {k: c[k] for k in _KEYS}) for c in status["conditions"]]
    old = [c.to_dict() for c in (md.status.conditions if md.status else None) or []]
    status["conditions"] = merge_conditions(old, new, now, generation)
    return status
