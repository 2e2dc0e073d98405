"""Desired vs observed children -> the creates, replaces and deletes that converge them. Pure.

Drift is "a desired field differs from what the server holds": desired must be a subset of observed.
Fields the API server or other controllers add (defaults, status, extra labels) are not drift, so a
converged object compares equal and a resync writes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from genai_operator.api.resources import Resource, resource_of
from genai_operator.reconcile.frozen_fields import within_frozen_fields

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
