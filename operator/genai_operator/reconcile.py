"""Desired vs observed children -> actions; status and conditions; events worth posting. Pure.

Drift is "a desired field differs from what the server holds": desired must be a subset of observed.
Fields the API server or other controllers add (defaults, status, extra labels) are not drift, so a
converged object compares equal and a resync writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from genai_operator.api.enums import ConditionStatus
from genai_operator.api.status import DEGRADED, MODEL_LOADED, READY, SPEC_VALID
from genai_operator.immutable_fields import within_frozen_fields
from genai_operator.kube.resources import Resource, resource_of

ChildKey = tuple[str, str]  # (kind, name)
Verb = Literal["create", "replace", "delete"]


@dataclass(frozen=True)
class Action:
    verb: Verb
    resource: Resource
    obj: dict[str, Any]  # desired object (create/replace) or the observed one (delete)

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])


def child_key(obj: Mapping[str, Any]) -> ChildKey:
    return str(obj["kind"]), str(obj["metadata"]["name"])


def is_subset(desired: Any, observed: Any) -> bool:
    """Every value in `desired` is present and equal in `observed` (dicts recursively, lists item by item).

    Exact type checks come first and strings are compared in place: this walks every desired child on every
    pass (a pod template is hundreds of values), and ABC isinstance checks and generators were most of it."""
    kind = type(desired)
    if kind is str:
        return type(observed) is str and desired == observed
    if kind is dict or (kind is not list and isinstance(desired, Mapping)):
        if type(observed) is not dict and not isinstance(observed, Mapping):
            return False
        for key, value in desired.items():
            if key not in observed:
                return False
            other = observed[key]
            if type(value) is str:
                if type(other) is not str or value != other:
                    return False
            elif not is_subset(value, other):
                return False
        return True
    if kind is list:
        if type(observed) is not list or len(desired) != len(observed):
            return False
        return all(map(is_subset, desired, observed))  # lengths are equal: map stops at neither's end early
    if kind is bool or type(observed) is bool:
        return kind is type(observed) and desired == observed
    return bool(desired == observed)


def is_drifted(desired: Mapping[str, Any], observed: Mapping[str, Any]) -> bool:
    meta, ometa = desired.get("metadata", {}), observed.get("metadata", {})
    for field in ("labels", "annotations", "ownerReferences"):
        if field in meta and not is_subset(meta[field], ometa.get(field)):
            return True
    body = {k: v for k, v in desired.items() if k not in ("metadata", "status", "apiVersion", "kind")}
    return not is_subset(body, observed)


def diff_children(desired: Sequence[dict[str, Any]], observed: Mapping[ChildKey, dict[str, Any]]) -> list[Action]:
    """Creates for missing children, replaces for drifted ones, deletes for owned children no longer wanted."""
    actions: list[Action] = []
    wanted = set()
    for obj in desired:
        key = child_key(obj)
        wanted.add(key)
        current = observed.get(key)
        if current is None:
            actions.append(Action("create", resource_of(obj), obj))
            continue
        changeable = within_frozen_fields(obj, current)
        if changeable is not None and is_drifted(changeable, current):
            replacement = _with_identity(changeable, current)
            actions.append(Action("replace", resource_of(obj), replacement))
    for key, current in sorted(observed.items()):
        if key not in wanted:
            actions.append(Action("delete", resource_of(current), current))
    return actions


def _with_identity(desired: dict[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """A full replacement keeps the server's identity fields and optimistic-concurrency token.

    Labels and annotations others added are kept too; ours win on conflict.
    """
    meta = dict(desired["metadata"])
    cmeta = current.get("metadata", {})
    meta["resourceVersion"] = cmeta.get("resourceVersion")
    meta["labels"] = {**(cmeta.get("labels") or {}), **(meta.get("labels") or {})}
    annotations = {**(cmeta.get("annotations") or {}), **(meta.get("annotations") or {})}
    if annotations:
        meta["annotations"] = annotations
    out = {**desired, "metadata": {k: v for k, v in meta.items() if v is not None}}
    if desired.get("kind") == "Service" and "clusterIP" in (current.get("spec") or {}):
        # clusterIP is immutable and server-assigned; a replace must carry it.
        out["spec"] = {**desired.get("spec", {}), "clusterIP": current["spec"]["clusterIP"]}
    return out


# -- conditions ----------------------------------------------------------------------------------------


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


def deployment_counts(observed: Mapping[ChildKey, Mapping[str, Any]], name: str) -> tuple[int, int, bool]:
    """(replicas observed, ready replicas, rollout done) of one pool's Deployment or StatefulSet."""
    dep = observed.get(("Deployment", name)) or observed.get(("StatefulSet", name))
    if dep is None:
        return 0, 0, False
    status = dep.get("status") or {}
    spec_replicas = int((dep.get("spec") or {}).get("replicas", 1))
    ready = int(status.get("readyReplicas") or 0)
    generation = (dep.get("metadata") or {}).get("generation")
    done = (
        status.get("observedGeneration") == generation
        and int(status.get("updatedReplicas") or 0) >= spec_replicas
        and ready >= spec_replicas
    )
    return int(status.get("replicas") or 0), ready, done


@dataclass(frozen=True)
class Event:
    type: Literal["Normal", "Warning"]
    reason: str
    message: str


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

    if cond := flipped(SPEC_VALID, "False"):
        events.append(Event("Warning", str(cond["reason"]), str(cond["message"])))
    if cond := flipped(READY, "True"):
        events.append(Event("Normal", "Ready", str(cond["message"])))
    if (cond := flipped(DEGRADED, "True")) and cond.get("reason") != "ModelLoadFailed":  # ModelLoaded's own below
        events.append(Event("Warning", str(cond["reason"]), str(cond["message"])))
    loaded, loaded_before = after.get(MODEL_LOADED), before.get(MODEL_LOADED) or {}
    if loaded and loaded.get("status") == "False" and loaded.get("reason") != "Loading" and \
            loaded.get("reason") != loaded_before.get("reason"):
        # A new loader failure (Unauthorized, NotFound...): the reason changes even while the status stays False.
        events.append(Event("Warning", str(loaded["reason"]), f"model loader: {loaded.get('message', '')}"))
    desired_before = sum(p.get("replicas", 0) for p in old.get("placement") or [])
    desired_after = sum(p.get("replicas", 0) for p in new.get("placement") or [])
    if old.get("placement") is not None and desired_before != desired_after:
        events.append(Event("Normal", "Scaled", f"scaled from {desired_before} to {desired_after} replica(s)"))
    return events


def merge_patch(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """An RFC 7386 merge patch turning `old` into `new`: removed keys become null, nested maps recurse."""
    patch: dict[str, Any] = {}
    for key in old.keys() - new.keys():
        patch[key] = None
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, Mapping) and isinstance(before, Mapping):
            inner = merge_patch(before, value)
            if inner:
                patch[key] = inner
        elif before != value or key not in old:
            patch[key] = value
    return patch
