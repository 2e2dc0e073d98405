"""Multi-node replicas on the real control plane, with the chart's RBAC (the operator runs as its ServiceAccount):
without the LeaderWorkerSet CRD the 405B BF16 example reports Placed=False (LeaderWorkerSetCrdMissing) naming
what to install; with the upstream LWS CRD applied from tests/upstream_crds/, kube-apiserver admits the
operator's LeaderWorkerSet (a group of two 8x H100 nodes per replica) and status.sizing reports the group.
The LWS controller is not part of this control plane, so no group pod runs and Ready stays False.
"""

from __future__ import annotations

from pathlib import Path

from chart_install import Release, operator_argv, service_account_kubeconfig
from cluster_support import apply, condition, eventually, example, get, md_path, operator
from conftest import control_plane_apply
from genai_sandbox import ControlPlane
from support.paths import UPSTREAM_CRDS

LWS_CRD = "leaderworkersets.leaderworkerset.x-k8s.io"


def established(plane: ControlPlane, crd: str) -> bool:
    found = get(plane, f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}") or {}
    conditions = (found.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)


def test_lws_condition_without_the_crd_then_the_group_admitted(
    control_plane: ControlPlane, cluster_release: Release, tmp_path: Path, namespace: str
) -> None:
    manifest = example("llama-405b-bf16-multinode.yaml")
    manifest["metadata"] = {"name": "big", "namespace": namespace}
    kubeconfig = service_account_kubeconfig(control_plane, cluster_release, tmp_path)
    argv = operator_argv(cluster_release, standalone=True)
    with operator(kubeconfig, tmp_path / "operator-1.log", *argv, env=cluster_release.env):
        apply(control_plane, manifest)
        md = eventually(
            lambda: (o := get(control_plane, md_path(namespace, "big"))) and condition(o, "Placed") and o,
            90,
            what="Placed reported",
        )
        placed = condition(md, "Placed")
        assert (placed["status"], placed["reason"]) == ("False", "LeaderWorkerSetCrdMissing"), placed
        assert "kubernetes-sigs/lws/releases" in placed["message"]

    control_plane_apply(control_plane, UPSTREAM_CRDS / "leaderworkerset.x-k8s.io_leaderworkersets.yaml")
    eventually(lambda: established(control_plane, LWS_CRD), 30, what="the LWS CRD established")
    with operator(kubeconfig, tmp_path / "operator-2.log", *argv, env=cluster_release.env):  # discovery at start
        lws = eventually(
            lambda: get(
                control_plane,
                f"/apis/leaderworkerset.x-k8s.io/v1/namespaces/{namespace}/leaderworkersets/big-cloud-h100",
            ),
            90,
            what="LeaderWorkerSet admitted",
        )
        template = lws["spec"]["leaderWorkerTemplate"]
        assert (lws["spec"]["replicas"], template["size"]) == (1, 2)
        assert template["restartPolicy"] == "RecreateGroupOnPodRestart"
        md = eventually(
            lambda: (
                (o := get(control_plane, md_path(namespace, "big")))
                and condition(o, "Placed").get("status") == "True"
                and o
            ),
            60,
            what="Placed=True",
        )
        sizing = md["status"]["sizing"]
        assert (sizing["nodesPerReplica"], sizing["pipelineParallel"], sizing["gpusPerReplica"]) == (2, 2, 16)
        assert condition(md, "Ready")["status"] == "False"  # no LWS controller: no group runs
        service = get(control_plane, f"/api/v1/namespaces/{namespace}/services/big")
        assert service is not None
        assert service["spec"]["selector"]["leaderworkerset.sigs.k8s.io/worker-index"] == "0"
