"""Autoscalers the operator renders, judged by the real control plane: the HPA controller of
kube-controller-manager reading the ModelDeployment's /scale subresource (AbleToScale=True, the selector in
status resolved to the model's pods); a KEDA ScaledObject for scale-to-zero admitted by KEDA's own CRD schema;
and the chart in namespaced mode (a Role per served namespace) running the operator for its namespace only.
"""

from __future__ import annotations

from pathlib import Path

from chart_install import Release, helm_install, operator_argv, service_account_kubeconfig
from cluster_support import (
    RBAC_DENIAL,
    apply,
    condition,
    create_namespace,
    delete_namespace,
    eventually,
    example,
    get,
    md_path,
    operator,
    wait_ready,
)
from genai_sandbox import ControlPlane


def test_the_hpa_controller_scales_through_the_model_deployments_scale_subresource(
    control_plane: ControlPlane, cluster_release: Release, tmp_path: Path, namespace: str
) -> None:
    manifest = example("llama-8b-bf16-l4.yaml")
    manifest["metadata"] = {"name": "scaled", "namespace": namespace}
    manifest["spec"]["replicas"] = 1
    manifest["spec"]["scaling"] = {
        "minReplicas": 1,
        "maxReplicas": 3,
        "metric": "CPU",
        "target": "80",
        "backend": "HPA",
    }
    kubeconfig = service_account_kubeconfig(control_plane, cluster_release, tmp_path)
    with operator(
        kubeconfig, tmp_path / "operator.log", *operator_argv(cluster_release, standalone=True), env=cluster_release.env
    ):
        apply(control_plane, manifest)
        md = wait_ready(control_plane, namespace, "scaled")
        hpa = eventually(
            lambda: (
                (
                    h := get(
                        control_plane, f"/apis/autoscaling/v2/namespaces/{namespace}/horizontalpodautoscalers/scaled"
                    )
                )
                and condition(h, "AbleToScale").get("status") == "True"
                and h
            ),
            90,
            what="the HPA controller reading /scale",
        )
        assert hpa["spec"]["scaleTargetRef"]["kind"] == "ModelDeployment"
        assert condition(hpa, "AbleToScale")["reason"] == "SucceededGetScale"
        # No metrics API here: the controller says so, which proves it got past /scale to the metrics step.
        assert condition(hpa, "ScalingActive").get("status") == "False"
        scale = get(control_plane, md_path(namespace, "scaled") + "/scale")
        assert scale is not None and scale["status"]["selector"] == md["status"]["selector"]
        _, pods = control_plane.api.request(
            "GET",
            f"/api/v1/namespaces/{namespace}/pods?labelSelector=" + scale["status"]["selector"].replace("=", "%3D"),
        )
        assert len(pods["items"]) == 1


def test_a_scale_to_zero_model_gets_a_scaled_object_keda_admits(
    control_plane: ControlPlane, cluster_release: Release, tmp_path: Path, namespace: str
) -> None:
    manifest = example("qwen-7b-scale-to-zero.yaml")
    manifest["metadata"]["namespace"] = namespace
    kubeconfig = service_account_kubeconfig(control_plane, cluster_release, tmp_path)
    with operator(
        kubeconfig, tmp_path / "operator.log", *operator_argv(cluster_release, standalone=True), env=cluster_release.env
    ):
        apply(control_plane, manifest)
        name = manifest["metadata"]["name"]
        scaled = eventually(
            lambda: get(control_plane, f"/apis/keda.sh/v1alpha1/namespaces/{namespace}/scaledobjects/{name}"),
            60,
            what="the ScaledObject",
        )
        assert scaled["spec"]["scaleTargetRef"]["kind"] == "ModelDeployment"
        assert scaled["spec"]["minReplicaCount"] == 0
        md = eventually(
            lambda: (
                (md := get(control_plane, md_path(namespace, name)))
                and condition(md, "AutoscalerReady").get("status")
                and md
            ),
            60,
        )
        assert condition(md, "AutoscalerReady")["status"] in ("True", "Unknown"), condition(md, "AutoscalerReady")


def test_the_chart_in_namespaced_mode_runs_the_operator_for_its_namespace_only(
    control_plane: ControlPlane, tmp_path: Path
) -> None:
    for namespace in ("team-a", "team-b"):
        create_namespace(control_plane, namespace)
    release = helm_install(
        control_plane,
        "genai-ns",
        "genai-ns-system",
        "--set",
        "watch.allNamespaces=false",
        "--set",
        "watch.namespaces={team-a}",
        "--set",
        "keda.enabled=false",
    )
    assert "--namespace=team-a" in release.args
    kubeconfig = service_account_kubeconfig(control_plane, release, tmp_path)
    with operator(kubeconfig, tmp_path / "operator.log", *operator_argv(release), env=release.env) as process:
        for namespace in ("team-a", "team-b"):
            manifest = example("llama-8b-bf16-l4.yaml")
            manifest["metadata"] = {"name": "served", "namespace": namespace}
            manifest["spec"]["replicas"] = 1
            apply(control_plane, manifest)
        wait_ready(control_plane, "team-a", "served")
        other = get(control_plane, md_path("team-b", "served"))
        assert (other is not None and "status" not in other) or not other["status"].get("conditions"), other
        assert get(control_plane, "/apis/apps/v1/namespaces/team-b/deployments/served-cloud-l4") is None
        assert RBAC_DENIAL.findall(process.log()) == []
    for namespace in ("team-a", "team-b"):
        delete_namespace(control_plane, namespace)
