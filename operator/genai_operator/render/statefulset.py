"""An apps/v1 StatefulSet for a pool whose cache is NodeLocal: one cache claim per replica.

Why a StatefulSet: a Deployment's pods share one pod template and so one claim; a per-node cache needs a
claim per replica. volumeClaimTemplates give each ordinal its own claim, and with a node-local storage
class (local volumes, WaitForFirstConsumer) that claim binds on the node where the replica first runs, so
the replica comes back to that node and finds its weights there after a restart. No hostPath.

Rollouts go one replica at a time, highest ordinal first (a StatefulSet cannot surge); status says so.
Parallel pod management starts all replicas at once, as a Deployment would. Claims are kept when the
StatefulSet is scaled down (a replica that returns finds its cache) and deleted with it.
"""

from __future__ import annotations

from typing import Any

from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.engines.fetch import CACHE_VOLUME
from genai_operator.placement.types import PoolAssignment
from genai_operator.render.cache_claim import claim_spec
from genai_operator.render.metadata import child_meta
from genai_operator.render.names import service_name
from genai_operator.render.pod_template import REVISION_HISTORY, pool_workload
from genai_operator.settings import Settings


def build_statefulset(
    md: ModelDeployment, assignment: PoolAssignment, *, settings: Settings, owner_uid: str | None = None
) -> dict[str, Any]:
    parts = pool_workload(md, assignment, settings)
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": child_meta(md, parts.name, parts.labels, owner_uid=owner_uid),
        "spec": {
            "replicas": assignment.replicas,
            "serviceName": service_name(md.metadata.name),
            "podManagementPolicy": "Parallel",
            "revisionHistoryLimit": REVISION_HISTORY,
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Retain"},
            "selector": {"matchLabels": parts.selector},
            "template": parts.template,
            "volumeClaimTemplates": [
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": {"name": CACHE_VOLUME, "labels": dict(parts.selector)},
                    "spec": claim_spec(parts.ctx, "ReadWriteOnce"),
                }
            ],
        },
    }
