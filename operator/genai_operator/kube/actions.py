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
from typing import Any, Protocol

from genai_operator.api.resources import Resource
from genai_operator.kube.session import ApiError
from genai_operator.reconcile.children import NameConflict, controlled_by, controller_uid
from genai_operator.reconcile.diff import Action, ChildKey, child_key, diff_children

log = logging.getLogger(__name__)
INVALID = 422  # Unprocessable Entity: the object fails the API server's validation


class ChildWriter(Protocol):
    """The API calls actions need (kube.client.KubeClient; a recording fake in tests)."""

    async def get(
        self, res: Resource, namespace: str | None, name: str, subresource: str | None = None
    ) -> dict[str, Any] | None: ...

    async def create(self, res: Resource, obj: dict[str, Any]) -> dict[str, Any]: ...

    async def replace(self, res: Resource, obj: dict[str, Any]) -> dict[str, Any]: ...

    async def delete(self, res: Resource, namespace: str | None, name: str, uid: str | None = None) -> bool: ...


@dataclass
class ApplyResult:
    observed: dict[ChildKey, dict[str, Any]] = field(default_factory=dict)
    created: int = 0
    created_keys: list[ChildKey] = field(default_factory=list)
    replaced: int = 0
    deleted: int = 0
    deleted_keys: list[ChildKey] = field(default_factory=list)
    conflicts: list[NameConflict] = field(default_factory=list)  # names taken by objects we do not own
    rejected: list[str] = field(default_factory=list)  # the API server's 422 messages


async def apply_actions(
    client: ChildWriter, actions: list[Action], observed: dict[ChildKey, dict[str, Any]]
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


async def _apply(client: ChildWriter, action: Action, result: ApplyResult, done: list[str]) -> None:
    try:
        await _write(client, action, result, done)
    except ApiError as exc:
        if exc.status != INVALID:
            raise
        meta = action.obj["metadata"]
        result.rejected.append(f"{action.resource.kind} {meta['name']}: {exc.message}")


async def _write(client: ChildWriter, action: Action, result: ApplyResult, done: list[str]) -> None:
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


async def _adopt_existing(client: ChildWriter, action: Action, result: ApplyResult) -> None:
    meta = action.obj["metadata"]
    current = await client.get(action.resource, meta.get("namespace"), meta["name"])
    if current is None:
        raise ApiError(409, "Conflict", f"{action.resource.kind} {meta['name']} exists but cannot be read")
    if not controlled_by(current, controller_uid(action.obj)):
        owner = next(
            (
                f"{o.get('kind')} {o.get('name')}"
                for o in current["metadata"].get("ownerReferences") or []
                if o.get("controller")
            ),
            "",
        )
        message = f"{action.resource.kind} {meta['name']} already exists and belongs to " + (
            f"{owner}; rename one of the two ModelDeployments" if owner else "no ModelDeployment; rename or delete it"
        )
        result.conflicts.append(NameConflict(action.resource.kind, meta["name"], message))
        return
    key = child_key(action.obj)
    for follow_up in diff_children([action.obj], {key: current}):
        if follow_up.verb == "replace":
            current = await client.replace(follow_up.resource, follow_up.obj)
            result.replaced += 1
    result.observed[key] = current
