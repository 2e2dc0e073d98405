"""What an observed child says about itself: whether its rollout is done, and who controls it. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genai_operator.reconcile.diff import ChildKey


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
