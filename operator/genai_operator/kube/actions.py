"""Carrying out reconcile actions against the API server, idempotently.

A create that answers 409 AlreadyExists (a retried request that did land, or an index that lags our own
write) is not an error: the object is read back and, when it is ours, compared like any other; when it is
not (another ModelDeployment's child of the same name), it is a conflict the status reports.
An object the API server refuses as invalid (422) is not retried either: the same spec renders the same
object, so the server's message goes to the status until the spec or the operator changes.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from genai_operator.kube.client import KubeClient
from genai_operator.kube.session import ApiError
from genai_operator.reconcile.diff import Action, ChildKey, child_key, diff_children

log = logging.getLogger(__name__)
INVALID = 422  # Unprocessable Entity: the object fails the API server's validation


@dataclass
class ApplyResult:
    observed: dict[ChildKey, dict[str, Any]] = field(default_factory=dict)
    created: int = 0
    created_keys: list[ChildKey] = field(default_factory=list)
    replaced: int = 0
    deleted: int = 0
    deleted_keys: list[ChildKey] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # names taken by objects we do not own
    rejected: list[str] = field(default_factory=list)  # the API server's 422 messages


def _owned_by(obj: dict[str, Any], uid: str | None) -> bool:
    owners = obj.get("metadata", {}).get("ownerReferences") or []
    return uid is not None and any(o.get("uid") == uid and o.get("controller") for o in owners)


def _owner_uid(obj: dict[str, Any]) -> str | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


async def apply_actions(
    client: KubeClient, actions: list[Action], observed: dict[ChildKey, dict[str, Any]]
) -> ApplyResult:
    """Carry out the actions; transient API errors propagate (the caller requeues with backoff).

    They are independent requests, so they run concurrently (as Kubernetes' own controllers create pods in
    batches): a new ModelDeployment's pass waited for its Deployment before creating its Service, one more
    round trip per object in bench/ (a third of a new object's pass). Claims go first, so no pod ever
    points at a claim that does not exist yet (a FailedScheduling warning until it does).
    """
    result = ApplyResult(observed=dict(observed))
    done: list[str] = []  # one log line per pass, not per object: a burst of 500 new objects logged 1,000 lines
    claims = [a for a in actions if a.resource.kind == "PersistentVolumeClaim"]
    others = [a for a in actions if a.resource.kind != "PersistentVolumeClaim"]
    try:
        for wave in (claims, others):
            outcomes = await asyncio.gather(*(_apply(client, a, result, done) for a in wave), return_exceptions=True)
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
    finally:
        if done:
            meta = actions[0].obj["metadata"]
            owner = (meta.get("labels") or {}).get("app.kubernetes.io/instance", "")
            log.info("%s/%s: %s", meta.get("namespace"), owner, "; ".join(sorted(done)))
    return result


async def _apply(client: KubeClient, action: Action, result: ApplyResult, done: list[str]) -> None:
    try:
        await _write(client, action, result, done)
    except ApiError as exc:
        if exc.status != INVALID:
            raise
        meta = action.obj["metadata"]
        result.rejected.append(f"{action.resource.kind} {meta['name']}: {exc.message}")


async def _write(client: KubeClient, action: Action, result: ApplyResult, done: list[str]) -> None:
    key = child_key(action.obj)
    meta = action.obj["metadata"]
    if action.verb == "create":
        try:
            result.observed[key] = await client.create(action.resource, action.obj)
            result.created += 1
            result.created_keys.append(key)
            done.append(f"created {action.resource.kind} {meta['name']}")
        except ApiError as exc:
            if exc.status != 409:
                raise
            await _adopt_existing(client, action, result)
    elif action.verb == "replace":
        result.observed[key] = await client.replace(action.resource, action.obj)
        result.replaced += 1
        done.append(f"restored drifted {action.resource.kind} {meta['name']}")
    else:
        uid = meta.get("uid")
        await client.delete(action.resource, meta.get("namespace"), meta["name"], uid=uid)
        result.observed.pop(key, None)
        result.deleted += 1
        result.deleted_keys.append(key)
        done.append(f"deleted {action.resource.kind} {meta['name']} (no longer desired)")


async def _adopt_existing(client: KubeClient, action: Action, result: ApplyResult) -> None:
    meta = action.obj["metadata"]
    current = await client.get(action.resource, meta.get("namespace"), meta["name"])
    if current is None:
        raise ApiError(409, "Conflict", f"{action.resource.kind} {meta['name']} exists but cannot be read")
    wanted_uid = _owner_uid(action.obj)
    if not _owned_by(current, wanted_uid):
        owner = next(
            (
                f"{o.get('kind')} {o.get('name')}"
                for o in current["metadata"].get("ownerReferences") or []
                if o.get("controller")
            ),
            "",
        )
        result.conflicts.append(
            f"{action.resource.kind} {meta['name']} already exists and belongs to "
            + (
                f"{owner}; rename one of the two ModelDeployments"
                if owner
                else "no ModelDeployment; rename or delete it"
            )
        )
        return
    key = child_key(action.obj)
    for follow_up in diff_children([action.obj], {key: current}):
        if follow_up.verb == "replace":
            current = await client.replace(follow_up.resource, follow_up.obj)
            result.replaced += 1
    result.observed[key] = current
