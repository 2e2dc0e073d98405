"""A PodDisruptionBudget `<md>` over all pools, when there are at least two replicas to protect.

maxUnavailable 1 lets node drains proceed one replica at a time. With a single replica a budget would
either block every drain (maxUnavailable 0) or protect nothing, so none is made. Unhealthy pods (a replica
still loading, or crash-looping) may always be evicted, so a broken replica never blocks a drain.
"""

from __future__ import annotations

from typing import Any

from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.placement.types import PlacementDecision
from genai_operator.render.labels import md_selector
from genai_operator.render.metadata import shared_child_meta
from genai_operator.render.names import pdb_name

MIN_REPLICAS_FOR_PDB = 2


def build_pdb(
    md: ModelDeployment, decision: PlacementDecision, engine_label: str, *, owner_uid: str | None = None
) -> dict[str, Any] | None:
    if decision.replicas < MIN_REPLICAS_FOR_PDB:
        return None
    name = md.metadata.name
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": shared_child_meta(md, pdb_name(name), engine_label, owner_uid=owner_uid),
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": md_selector(name)},
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }
