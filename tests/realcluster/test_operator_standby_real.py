"""Warm standby against the real control plane: the chart's ServiceAccount (its real RBAC) running the operator,
KEDA's own ScaledObject CRD keeping the standby replica, and its Active condition written as KEDA would. The
sleep call goes through the real API server's pod proxy; kwok's pods serve no HTTP, so the proxy answers an
error, which the operator must report (WarmStandby=False SleepFailed, status.standby.lastError), and which
must not be an RBAC denial: the chart's `create` on pods/proxy is what the real authorizer lets through.
"""

from __future__ import annotations

from pathlib import Path

from chart_install import Release, operator_argv, service_account_kubeconfig
from cluster_support import RBAC_DENIAL, apply, condition, eventually, example, get, md_path, operator, wait_ready
from genai_sandbox import ControlPlane


def test_an_idle_standby_replica_is_sent_to_sleep_through_the_real_pod_proxy(
    control_plane: ControlPlane, cluster_release: Release, tmp_path: Path, namespace: str
) -> None:
    manifest = example("qwen-7b-warm-standby.yaml")
    manifest["metadata"]["namespace"] = namespace
    manifest["spec"]["scaling"]["warmStandby"]["idleSeconds"] = 0
    name = manifest["metadata"]["name"]
    scaled_path = f"/apis/keda.sh/v1alpha1/namespaces/{namespace}/scaledobjects/{name}"
    kubeconfig = service_account_kubeconfig(control_plane, cluster_release, tmp_path)
    with operator(
        kubeconfig, tmp_path / "operator.log", *operator_argv(cluster_release, standalone=True), env=cluster_release.env
    ) as process:
        apply(control_plane, manifest)
        wait_ready(control_plane, namespace, name)
        scaled = eventually(lambda: get(control_plane, scaled_path), 60, what="the ScaledObject")
        assert scaled["spec"]["minReplicaCount"] == 1
        scaled["status"] = {
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "ScaledObjectReady", "message": ""},
                {"type": "Active", "status": "False", "reason": "ScalerNotActive", "message": ""},
            ]
        }
        status, answer = control_plane.api.request("PUT", scaled_path + "/status", scaled)
        assert status == 200, answer
        md = eventually(
            lambda: (
                (md := get(control_plane, md_path(namespace, name)))
                and condition(md, "WarmStandby").get("status") == "False"
                and md
            ),
            60,
            what="the sleep call's failure reported",
        )
        cond = condition(md, "WarmStandby")
        assert cond["reason"] == "SleepFailed", cond
        error = md["status"]["standby"]["lastError"]
        # Past the authorizer: an RBAC denial is a Status naming the verb and resource; whatever stands between
        # the API server and kwok's fake pod IP (nothing listens there, or an egress proxy) answers instead.
        assert error.startswith("sleep ") and not RBAC_DENIAL.search(error) and "forbidden" not in error.lower(), error
        assert md["status"]["standby"]["failures"] >= 1
        assert RBAC_DENIAL.findall(process.log()) == []
