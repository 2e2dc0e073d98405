"""The LeaderWorkerSet of a multi-node replica (render/leaderworkerset.py): vLLM's arguments per rank (leader
serves, workers --headless, all told nnodes/node-rank/master-addr from the LWS environment), probes on the
leader only, RecreateGroupOnPodRestart, exclusive placement by node, a leaders-only Service, a NetworkPolicy
that admits the group's own pods; every object validated against the upstream LWS CRD."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from genai_operator.api.enums import Engine
from genai_operator.render.leaderworkerset import EXCLUSIVE_TOPOLOGY, WORKER_INDEX, rank_args
from support.render_fixtures import H100, assign, by_kind, decision, flag, manifest, only, pool, render_valid, sizing

GROUP = replace(sizing(H100, gpus=8, tp=8, weights=800 * 10**9), nodes=2)


def rendered(**spec: Any) -> list[dict[str, Any]]:
    md = manifest("big", model={"uri": "hf://meta-llama/Llama-3.1-405B-Instruct"}, **spec)
    return render_valid(md, decision(assign(pool("cloud-h100", gpu=H100), 3, Engine.VLLM, GROUP)))


def templates(objects: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    lws = only(objects, "LeaderWorkerSet")["spec"]["leaderWorkerTemplate"]
    return lws["leaderTemplate"], lws["workerTemplate"]


def test_one_group_per_replica_of_two_nodes() -> None:
    objects = rendered()
    assert not by_kind(objects, "Deployment")
    lws = only(objects, "LeaderWorkerSet")
    assert lws["apiVersion"] == "leaderworkerset.x-k8s.io/v1"
    assert lws["spec"]["replicas"] == 3
    template = lws["spec"]["leaderWorkerTemplate"]
    assert (template["size"], template["restartPolicy"]) == (2, "RecreateGroupOnPodRestart")
    assert lws["metadata"]["annotations"][EXCLUSIVE_TOPOLOGY] == "kubernetes.io/hostname"


def test_vllm_args_per_rank() -> None:
    leader, worker = templates(rendered())
    leader_args = leader["spec"]["containers"][0]["args"]
    worker_args = worker["spec"]["containers"][0]["args"]
    for args in (leader_args, worker_args):
        assert flag(args, "--tensor-parallel-size") == "8"
        assert flag(args, "--pipeline-parallel-size") == "2"
        assert flag(args, "--distributed-executor-backend") == "mp"
        assert flag(args, "--nnodes") == "$(LWS_GROUP_SIZE)"
        assert flag(args, "--node-rank") == "$(LWS_WORKER_INDEX)"
        assert flag(args, "--master-addr") == "$(LWS_LEADER_ADDRESS)"
        assert flag(args, "--master-port") == "29500"
    assert "--headless" in worker_args and "--headless" not in leader_args
    assert rank_args(4, leader=False)[1] == "4"


def test_probes_on_the_leader_only_and_gpus_per_pod() -> None:
    leader, worker = templates(rendered())
    lead, work = leader["spec"]["containers"][0], worker["spec"]["containers"][0]
    assert {"startupProbe", "readinessProbe", "livenessProbe"} <= set(lead)
    assert not {"startupProbe", "readinessProbe", "livenessProbe"} & set(work)
    assert lead["resources"]["limits"]["nvidia.com/gpu"] == work["resources"]["limits"]["nvidia.com/gpu"] == "8"
    assert "topologySpreadConstraints" not in leader["spec"]


def test_service_selects_leaders_and_policy_admits_the_group() -> None:
    objects = rendered(networkPolicy={"enabled": True, "allowedClients": [{"podSelector": {"app": "web"}}]})
    assert only(objects, "Service")["spec"]["selector"][WORKER_INDEX] == "0"
    _, worker = templates(objects)
    assert worker["metadata"]["labels"]["app.kubernetes.io/component"] == "inference-worker"
    ingress = only(objects, "NetworkPolicy")["spec"]["ingress"]
    assert ingress[-1] == {"from": [{"podSelector": {"matchLabels": {"genaiops.dev/model-deployment": "big"}}}]}


def test_a_one_node_replica_stays_a_deployment() -> None:
    md = manifest("small")
    objects = render_valid(md, decision(assign(pool("cloud-h100", gpu=H100), 1, Engine.VLLM, sizing(H100))))
    assert by_kind(objects, "Deployment") and not by_kind(objects, "LeaderWorkerSet")
    assert WORKER_INDEX not in only(objects, "Service")["spec"]["selector"]
