"""A LeaderWorkerSet (leaderworkerset.x-k8s.io/v1) for a pool whose replicas span several nodes.

One group per replica (spec.replicas), `size` pods per group, one per node (sizing/multinode.py): the
leader (worker index 0) runs vLLM's API server and pipeline stage 0, each worker `--headless` one more
stage. vLLM's own multiprocessing executor joins them, without Ray: every pod is told the node count,
its rank and the leader's address (`--nnodes`, `--node-rank`, `--master-addr`, `--master-port`), from
the environment variables the LWS controller sets in each pod (LWS_GROUP_SIZE, LWS_WORKER_INDEX,
LWS_LEADER_ADDRESS, expanded by the kubelet as `$(VAR)`).

- RecreateGroupOnPodRestart: a pipeline stage that restarts cannot rejoin the running NCCL groups, so
  the whole group is recreated.
- Exclusive topology by node (the `exclusive-topology` annotation): no two groups share a node, as each
  pod takes a node's GPUs anyway, and a group's placement is all or nothing.
- Probes on the leader only: workers serve no HTTP; the leader's /health fails when a stage dies.
- The Service selects leaders (render/service.py), the worker pods carry the component `inference-worker`.

Nothing here runs without the LWS controller: the operator only checks that the CRD is served
(planning/group_choice.py); Ready comes from the LeaderWorkerSet's status.readyReplicas (groups ready).
"""

from __future__ import annotations

import copy
from typing import Any

from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.placement.types import PlacementDecision, PoolAssignment
from genai_operator.render.labels import COMPONENT, MODEL_DEPLOYMENT, md_selector
from genai_operator.render.metadata import child_meta
from genai_operator.render.pod_template import HOSTNAME_LABEL, pool_workload
from genai_operator.settings import Settings

API_VERSION = "leaderworkerset.x-k8s.io/v1"
KIND = "LeaderWorkerSet"
EXCLUSIVE_TOPOLOGY = "leaderworkerset.sigs.k8s.io/exclusive-topology"
WORKER_INDEX = "leaderworkerset.sigs.k8s.io/worker-index"
WORKER_COMPONENT = "inference-worker"
# torch.distributed's rendezvous port on the leader; fixed, as every pod of a group must agree on it.
MASTER_PORT = 29500
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")


def is_group(assignment: PoolAssignment) -> bool:
    return assignment.sizing.nodes > 1


def serves_groups(decision: PlacementDecision) -> bool:
    """Whether the ModelDeployment's replicas are multi-node groups (planning keeps them all one kind)."""
    return any(is_group(a) for a in decision.assignments)


def rank_args(nodes: int, *, leader: bool) -> list[str]:
    """vLLM's multi-node arguments for one pod of a group (the rank comes from the pod's environment)."""
    args = [
        "--pipeline-parallel-size",
        str(nodes),
        "--distributed-executor-backend",
        "mp",
        "--nnodes",
        "$(LWS_GROUP_SIZE)",
        "--node-rank",
        "$(LWS_WORKER_INDEX)",
        "--master-addr",
        "$(LWS_LEADER_ADDRESS)",
        "--master-port",
        str(MASTER_PORT),
    ]
    return args if leader else [*args, "--headless"]


def _template(base: dict[str, Any], nodes: int, *, leader: bool) -> dict[str, Any]:
    template = copy.deepcopy(base)
    # LWS pods have no pod-template-hash to spread by, and exclusive placement puts one group pod per node.
    template["spec"].pop("topologySpreadConstraints", None)
    container = template["spec"]["containers"][0]
    container["args"] = [*container["args"], *rank_args(nodes, leader=leader)]
    if not leader:
        template["metadata"]["labels"][COMPONENT] = WORKER_COMPONENT
        for probe in PROBES:
            container.pop(probe, None)
    return template


def build_leaderworkerset(
    md: ModelDeployment, assignment: PoolAssignment, *, settings: Settings, owner_uid: str | None
) -> dict[str, Any]:
    parts = pool_workload(md, assignment, settings)
    nodes = assignment.sizing.nodes
    meta = child_meta(md, parts.name, parts.labels, owner_uid=owner_uid)
    meta.setdefault("annotations", {})[EXCLUSIVE_TOPOLOGY] = HOSTNAME_LABEL
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": meta,
        "spec": {
            "replicas": assignment.replicas,
            "startupPolicy": "LeaderCreated",
            # One group at a time: a surge group would need `nodes` free nodes more.
            "rolloutStrategy": {
                "type": "RollingUpdate",
                "rollingUpdateConfiguration": {"maxUnavailable": 1, "maxSurge": 0},
            },
            "leaderWorkerTemplate": {
                "size": nodes,
                "restartPolicy": "RecreateGroupOnPodRestart",
                "leaderTemplate": _template(parts.template, nodes, leader=True),
                "workerTemplate": _template(parts.template, nodes, leader=False),
            },
        },
    }


def for_groups(objects: list[dict[str, Any]], md_name: str) -> None:
    """Adjust the ModelDeployment-wide objects for multi-node groups: the Service selects leaders only,
    and a NetworkPolicy admits the group's own pods on all ports (NCCL and the rendezvous use ports
    chosen at run time)."""
    for obj in objects:
        if obj["kind"] == "Service" and obj["spec"].get("selector", {}).get(MODEL_DEPLOYMENT) == md_name:
            obj["spec"]["selector"][WORKER_INDEX] = "0"
        elif obj["kind"] == "NetworkPolicy":
            peers = [{"podSelector": {"matchLabels": md_selector(md_name)}}]
            obj["spec"]["ingress"] = [*obj["spec"]["ingress"], {"from": peers}]
