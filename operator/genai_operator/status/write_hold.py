"""Status changes that can wait: progress the next status write carries anyway. Pure.

A new ModelDeployment's status is written twice (planned, then Ready). In between, its loaders move from
Pending to Loading to Loaded and a Shared cache claim goes from Pending to Bound; writing each step would
add writes per object for news that readiness follows within moments. The controller holds such a change
briefly (controller/reconciler.py, PROGRESS_HOLD_SECONDS) so it lands in the same write as readiness;
anything else (a failure, a lost claim, readiness itself, a spec change) is written at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genai_operator.render.names import cache_claim_name
from genai_operator.status.model_deployment import shared_claim_description
from genai_operator.status.model_loaded import is_loading_progress, without_model_loaded

# Phases of a claim of ours on its way to use: binding is not news worth a write of its own.
CLAIM_PROGRESS_PHASES = ("Pending", "Bound")


def only_progress(old: Mapping[str, Any], new: Mapping[str, Any], md_name: str) -> bool:
    """Whether `new` differs from `old` (statuses of the ModelDeployment `md_name`) only in loading progress
    (ModelLoaded Pending, Loading or Loaded, not a failure), its cache claims going from Pending to Bound and
    status.coldStart."""
    old_rest, _ = without_model_loaded(_claims_settled(_without_cold_start(old), md_name))
    new_rest, loaded = without_model_loaded(_claims_settled(_without_cold_start(new), md_name))
    return old_rest == new_rest and (loaded is None or is_loading_progress(loaded))


def _without_cold_start(status: Mapping[str, Any]) -> Mapping[str, Any]:
    """A new replica's cold start is news its readiness brings moments later (the pod's watch runs ahead)."""
    return {k: v for k, v in status.items() if k != "coldStart"}


def _claims_settled(status: Mapping[str, Any], md_name: str) -> Mapping[str, Any]:
    """The status with each placement's claim in progress shown alike, whatever its phase. The cache texts
    a claim in progress can have are built the way status builds them, from the claim's name, not read
    back out of the text."""
    placement = status.get("placement")
    if not placement:
        return status
    settled = [_claim_settled(entry, md_name) for entry in placement]
    return {**status, "placement": settled}


def _claim_settled(entry: Mapping[str, Any], md_name: str) -> Mapping[str, Any]:
    pool = entry.get("pool")
    if not isinstance(pool, str) or not isinstance(entry.get("cache"), str):
        return entry
    claim = cache_claim_name(md_name, pool)
    in_progress = {shared_claim_description(claim, phase) for phase in CLAIM_PROGRESS_PHASES}
    return {**entry, "cache": ("claim in progress", claim)} if entry["cache"] in in_progress else entry
