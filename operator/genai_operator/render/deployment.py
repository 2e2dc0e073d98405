"""One apps/v1 Deployment per pool assignment: the engine's container placed on the pool's nodes.

A pool whose share is 0 replicas keeps its Deployment, scaled to 0. An autoscaler moving spec.replicas
up and down makes spillover pools go 0 -> N -> 0 often; scaling an existing Deployment is one patch and
keeps its rollout history, where deleting and re-creating it churns objects and events. Deployments of
pools that leave the placement decision altogether are pruned by the reconciler (they carry the pool
label). A pool with a NodeLocal cache gets a StatefulSet instead (statefulset.py); the pod template both
use, with its scheduling, is in pod_template.py.

Rollouts: maxSurge 1 / maxUnavailable 0 never drops serving capacity, but needs room for one extra
replica in the pool; `rollout.py` switches a rollout to one replica at a time when the pool has no room.
The progress deadline covers a cold download by the model loader plus the engine's load.
"""

from __future__ import annotations

from typing import Any

from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.engines import EnginePlan
from genai_operator.placement.types import PoolAssignment
from genai_operator.render.metadata import child_meta
from genai_operator.render.pod_template import REVISION_HISTORY, pool_workload
from genai_operator.settings import Settings

DEFAULT_SETTINGS = Settings()
PROGRESS_MARGIN_SECONDS = 600
SURGE = {"maxSurge": 1, "maxUnavailable": 0}  # rollout.py may swap in one-at-a-time when there is no room


def build_deployment(
    md: ModelDeployment,
    assignment: PoolAssignment,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    owner_uid: str | None = None,
) -> dict[str, Any]:
    parts = pool_workload(md, assignment, settings)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": child_meta(md, parts.name, parts.labels, owner_uid=owner_uid),
        "spec": {
            "replicas": assignment.replicas,
            "revisionHistoryLimit": REVISION_HISTORY,
            # Longer than a cold start, or every large model's first rollout would be reported as failed.
            "progressDeadlineSeconds": progress_deadline(parts.plan),
            "strategy": {"type": "RollingUpdate", "rollingUpdate": dict(SURGE)},
            "selector": {"matchLabels": parts.selector},
            "template": parts.template,
        },
    }


def progress_deadline(plan: EnginePlan) -> int:
    return plan.fetch_seconds + plan.startup_seconds + PROGRESS_MARGIN_SECONDS
