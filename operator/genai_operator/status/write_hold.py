"""Status changes that can wait: progress the next status write carries anyway. Pure.

A new ModelDeployment's status is written twice (planned, then Ready). In between, its loaders move from
Pending to Loading to Loaded and a Shared cache claim goes from Pending to Bound; writing each step would
add writes per object for news that readiness follows within moments. The controller holds such a change
briefly (controller.PROGRESS_HOLD_SECONDS) so it lands in the same write as readiness; anything else
(a failure, a lost claim, readiness itself, a spec change) is written at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from genai_operator.status.model_loaded import is_loading_progress, without_model_loaded

# The claim phase that observed_status.cache_description appends: "Shared (claim <name>, <phase>)".
_CLAIM_PROGRESS = re.compile(r", (?:Pending|Bound)\)$")


def only_progress(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether `new` differs from `old` only in loading progress (ModelLoaded Pending, Loading or Loaded,
    not a failure) and cache claims going from Pending to Bound."""
    old_rest, _ = without_model_loaded(_claims_settled(old))
    new_rest, loaded = without_model_loaded(_claims_settled(new))
    return old_rest == new_rest and (loaded is None or is_loading_progress(loaded))


def _claims_settled(status: Mapping[str, Any]) -> Mapping[str, Any]:
    placement = status.get("placement")
    if not placement:
        return status
    settled = [
        {**p, "cache": _CLAIM_PROGRESS.sub(")", p["cache"])} if isinstance(p.get("cache"), str) else p
        for p in placement
    ]
    return {**status, "placement": settled}
