"""Whether a plan with multi-node replicas can be rendered on this cluster (pure).

Like the autoscaler and routing choices: the LeaderWorkerSet API is discovered at start and on every
resync (controller/reconciler.py). A plan whose replicas span nodes needs it; without it the
ModelDeployment says what to install (Placed=False, reason LeaderWorkerSetCrdMissing) and nothing is
rendered until discovery finds the API. No error, no retry loop.

The operator creates LeaderWorkerSets; running their pods is the LWS controller's job, installed with
the same manifest as the CRD.
"""

from __future__ import annotations

from genai_operator.placement.types import PlacementDecision

LWS_GROUP = "leaderworkerset.x-k8s.io"
LWS_VERSION = "v0.7.0"
LWS_MANIFEST = f"https://github.com/kubernetes-sigs/lws/releases/download/{LWS_VERSION}/manifests.yaml"
LWS_CRD_MISSING = "LeaderWorkerSetCrdMissing"


def group_api_missing(decision: PlacementDecision, *, lws_available: bool) -> tuple[str, str] | None:
    """(reason, message) when the plan has multi-node replicas and the LeaderWorkerSet API is not served."""
    groups = [a for a in decision.assignments if a.sizing.nodes > 1]
    if not groups or lws_available:
        return None
    shape = ", ".join(
        f"{a.pool.name}: {a.sizing.nodes} nodes x {a.sizing.gpus_per_replica} GPUs per replica" for a in groups
    )
    return (
        LWS_CRD_MISSING,
        f"no single node holds a replica, so each replica is a group of nodes ({shape}), served as a "
        f"LeaderWorkerSet (leaderworkerset.x-k8s.io/v1), whose CRD is not installed: install LeaderWorkerSet "
        f"(CRD and controller) with kubectl apply --server-side -f {LWS_MANIFEST}",
    )
