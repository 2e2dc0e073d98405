"""The Kubernetes Events worth posting for a ModelDeployment: transitions a human cares about. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from genai_operator.api.conditions import DEGRADED, MODEL_LOADED, READY, SPEC_VALID
from genai_operator.status.deprecation import DEPRECATED


@dataclass(frozen=True)
class Event:
    type: Literal["Normal", "Warning"]
    reason: str
    message: str


class EventSink(Protocol):
    """Where the reconciler posts the Events of a ModelDeployment (`body`): Kopf's poster in the operator
    (controller/runtime.py), a list in tests."""

    def post(self, body: Mapping[str, Any], event: Event) -> None: ...


def transition_events(old: Mapping[str, Any] | None, new: Mapping[str, Any], created: int) -> list[Event]:
    """Events for transitions a human cares about; a steady state posts nothing.

    A new ModelDeployment's first children are what applying it means, not news: its first event is Ready
    (or why not). Children created later are news: a restored deletion, a new pool after a spec change.
    This halves the Events of a burst of new objects (they were a third of all requests in bench/).
    """
    old = old or {}
    events: list[Event] = []
    if created and old.get("placement") is not None:
        events.append(Event("Normal", "Created", f"created {created} object(s)"))
    before = {c.get("type"): c for c in old.get("conditions") or []}
    after = {c.get("type"): c for c in new.get("conditions") or []}

    def flipped(type_: str, to: str) -> Mapping[str, Any] | None:
        cond: Mapping[str, Any] | None = after.get(type_)
        prev = before.get(type_)
        if cond and cond.get("status") == to and (prev is None or prev.get("status") != to):
            return cond
        return None

    if spec_event := flipped(SPEC_VALID, "False"):
        events.append(Event("Warning", str(spec_event["reason"]), str(spec_event["message"])))
    spec_valid, spec_valid_before = after.get(SPEC_VALID) or {}, before.get(SPEC_VALID) or {}
    if spec_valid.get("reason") == DEPRECATED and spec_valid_before.get("reason") != DEPRECATED:
        events.append(Event("Warning", DEPRECATED, str(spec_valid.get("message", ""))))  # once, when it starts
    if cond := flipped(READY, "True"):
        events.append(Event("Normal", "Ready", str(cond["message"])))
    if (
        (cond := flipped(DEGRADED, "True"))
        and cond.get("reason") != "ModelLoadFailed"  # ModelLoaded posts its own below
        and not (spec_event and spec_event.get("reason") == cond.get("reason"))  # said once, by SpecValid
    ):
        events.append(Event("Warning", str(cond["reason"]), str(cond["message"])))
    loaded, loaded_before = after.get(MODEL_LOADED), before.get(MODEL_LOADED) or {}
    if (
        loaded
        and loaded.get("status") == "False"
        and loaded.get("reason") != "Loading"
        and loaded.get("reason") != loaded_before.get("reason")
    ):
        # A new loader failure (Unauthorized, NotFound...): the reason changes even while the status stays False.
        events.append(Event("Warning", str(loaded["reason"]), f"model loader: {loaded.get('message', '')}"))
    desired_before = sum(p.get("replicas", 0) for p in old.get("placement") or [])
    desired_after = sum(p.get("replicas", 0) for p in new.get("placement") or [])
    if old.get("placement") is not None and desired_before != desired_after:
        events.append(Event("Normal", "Scaled", f"scaled from {desired_before} to {desired_after} replica(s)"))
    return events
