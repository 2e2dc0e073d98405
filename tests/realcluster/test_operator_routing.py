"""spec.routing on the real control plane, with the chart's RBAC (the operator runs as its ServiceAccount):
without the InferencePool CRD the ModelDeployment says what to install; with the InferencePool and
HTTPRoute CRDs applied from tests/upstream_crds/, kube-apiserver admits the InferencePool and HTTPRoute the
operator creates, lets it create the picker's Role and RoleBinding (RBAC escalation check against the
chart's grants), and the InferencePool's selector resolves to the ModelDeployment's pods; a standalone
ModelDeployment on the store's edge pool gets a site InferencePool, admitted, whose selector resolves to
that pool's pods, and lists its site endpoint in status.
"""

from __future__ import annotations

from pathlib import Path

from chart_install import Release, operator_argv, service_account_kubeconfig
from cluster_support import apply, condition, eventually, example, get, items, md_path, operator, wait_ready
from conftest import control_plane_apply
from genai_sandbox import ControlPlane
from support.paths import UPSTREAM_CRDS


def test_routing_condition_without_the_crd_then_pool_and_route_admitted(
    control_plane: ControlPlane, cluster_release: Release, tmp_path: Path, namespace: str
) -> None:
    manifest = example("qwen-7b-routed-gateway.yaml")
    manifest["metadata"] = {"name": "routed", "namespace": namespace}
    manifest["spec"].pop("scaling")  # KEDA's controllers are not part of this control plane
    kubeconfig = service_account_kubeconfig(control_plane, cluster_release, tmp_path)
    argv = operator_argv(cluster_release, standalone=True)
    with operator(kubeconfig, tmp_path / "operator-1.log", *argv, env=cluster_release.env):
        apply(control_plane, manifest)
        md = eventually(
            lambda: (o := get(control_plane, md_path(namespace, "routed"))) and condition(o, "RoutingReady") and o,
            90,
            what="RoutingReady reported",
        )
        ready = condition(md, "RoutingReady")
        assert (ready["status"], ready["reason"]) == ("False", "InferencePoolCrdMissing"), ready
        assert "kubectl apply -f" in ready["message"]

    control_plane_apply(
        control_plane,
        UPSTREAM_CRDS / "inference.networking.k8s.io_inferencepools.yaml",
        UPSTREAM_CRDS / "gateway.networking.k8s.io_httproutes.yaml",
    )
    for crd in ("inferencepools.inference.networking.k8s.io", "httproutes.gateway.networking.k8s.io"):
        eventually(lambda crd=crd: established(control_plane, crd), 30, what=f"CRD {crd} established")
    with operator(kubeconfig, tmp_path / "operator-2.log", *argv, env=cluster_release.env):  # discovery at start
        md = wait_ready(control_plane, namespace, "routed", timeout=120)
        md = eventually(
            lambda: (
                (o := get(control_plane, md_path(namespace, "routed")))
                and condition(o, "RoutingReady").get("status") == "True"
                and o
            ),
            60,
            what="RoutingReady=True",
        )
        pool = get(control_plane, f"/apis/inference.networking.k8s.io/v1/namespaces/{namespace}/inferencepools/routed")
        route = get(control_plane, f"/apis/gateway.networking.k8s.io/v1/namespaces/{namespace}/httproutes/routed")
        assert pool is not None and route is not None
        for path in ("roles", "rolebindings"):
            assert get(control_plane, f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/{path}/routed-epp")
        selector = ",".join(f"{k}={v}" for k, v in pool["spec"]["selector"]["matchLabels"].items())
        pods = items(control_plane, f"/api/v1/namespaces/{namespace}/pods?labelSelector={selector}")
        assert len(pods) == md["status"]["replicas"] >= 1
        assert all(p["metadata"]["labels"].get("genaiops.dev/router") is None for p in pods)
        assert md["status"]["endpoint"] == "gateway://gateway-system/inference-gateway/v1"

        edge = example("qwen-1.5b-edge-routed.yaml")
        edge["metadata"] = {"name": "edge", "namespace": namespace}
        apply(control_plane, edge)
        md = wait_ready(control_plane, namespace, "edge", timeout=120)
        site_pool = eventually(
            lambda: get(
                control_plane,
                f"/apis/inference.networking.k8s.io/v1/namespaces/{namespace}/inferencepools/edge-store-cpu",
            ),
            60,
            what="site InferencePool admitted",
        )
        selector = ",".join(f"{k}={v}" for k, v in site_pool["spec"]["selector"]["matchLabels"].items())
        pods = items(control_plane, f"/api/v1/namespaces/{namespace}/pods?labelSelector={selector}")
        assert len(pods) == md["status"]["replicas"] >= 1
        assert {p["metadata"]["labels"]["genaiops.dev/pool"] for p in pods} == {"store-cpu"}
        assert md["status"]["siteEndpoints"] == [
            {"pool": "store-cpu", "endpoint": f"http://edge-store-cpu-epp.{namespace}.svc:8081/v1"}
        ]


def established(plane: ControlPlane, crd: str) -> bool:
    found = get(plane, f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}") or {}
    conditions = (found.get("status") or {}).get("conditions") or []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)
