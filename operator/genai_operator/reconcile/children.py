"""What an observed child says about itself: whether its rollout is done, and who controls it. Pure.

The informers (to hurry a pass when a workload turns ready), status (Ready, Progressing), the reconciler
(which children are ours) and the action executor (whether an existing object may be adopted) all ask
these questions; each is answered here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from genai_operator.reconcile.diff import ChildKey

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "LeaderWorkerSet")


@dataclass(frozen=True)
class NameConflict:
    """A child we could not create: an object of the same kind and name belongs to someone else."""

    kind: str
    name: str
    message: str  # what status says about it, naming the owner and the fix

    def __str__(self) -> str:
        return self.message


def rollout_done(workload: Mapping[str, Any]) -> bool:
    """Whether a Deployment's, StatefulSet's or LeaderWorkerSet's (counting groups) controller reports its
    current spec with every replica updated and ready: the change a ModelDeployment's Ready waits for."""
    status = workload.get("status") or {}
    wanted = int((workload.get("spec") or {}).get("replicas", 1))
    return (
        status.get("observedGeneration") == (workload.get("metadata") or {}).get("generation")
        and int(status.get("updatedReplicas") or 0) >= wanted
        and int(status.get("readyReplicas") or 0) >= wanted
    )


def controller_uid(obj: Mapping[str, Any]) -> str | None:
    """The uid of the object's controlling owner (None when nothing controls it)."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


def controlled_by(obj: Mapping[str, Any], uid: str | None) -> bool:
    """Whether the object carries a controller owner reference to `uid`: ours to change or delete."""
    owners = (obj.get("metadata") or {}).get("ownerReferences") or []
    return uid is not None and any(o.get("uid") == uid and o.get("controller") for o in owners)


def deployment_counts(observed: Mapping[ChildKey, Mapping[str, Any]], name: str) -> tuple[int, int, bool]:
    """(replicas observed, ready replicas, rollout done) of one pool's Deployment or StatefulSet."""
    dep = next((observed[(kind, name)] for kind in WORKLOAD_KINDS if (kind, name) in observed), None)
    if dep is None:
        return 0, 0, False
    status = dep.get("status") or {}
    return int(status.get("replicas") or 0), int(status.get("readyReplicas") or 0), rollout_done(dep)
