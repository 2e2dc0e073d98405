"""Conditions in metav1.Condition form, and merging them so lastTransitionTime moves only on a flip. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from genai_operator.api.enums import ConditionStatus


def condition(type_: str, status: bool | None, reason: str, message: str) -> dict[str, Any]:
    value = ConditionStatus.UNKNOWN if status is None else (ConditionStatus.TRUE if status else ConditionStatus.FALSE)
    return {"type": type_, "status": value.value, "reason": reason, "message": message}


def merge_conditions(
    old: Sequence[Mapping[str, Any]] | None, new: Sequence[dict[str, Any]], now: str, generation: int | None
) -> list[dict[str, Any]]:
    """metav1.Condition semantics: lastTransitionTime moves only when status flips."""
    previous = {c.get("type"): c for c in old or []}
    merged = []
    for cond in new:
        before = previous.get(cond["type"])
        changed = before is None or before.get("status") != cond["status"]
        stamp = now if changed or not before or not before.get("lastTransitionTime") else before["lastTransitionTime"]
        entry = {**cond, "lastTransitionTime": stamp}
        if generation is not None:
            entry["observedGeneration"] = generation
        merged.append(entry)
    return merged
