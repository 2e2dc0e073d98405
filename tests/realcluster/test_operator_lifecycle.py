"""The operator on the real control plane, installed by the chart and running as the chart's ServiceAccount in
all-namespaces mode (the real RBAC authorizer judges every request; one refusal fails the module): a
ModelDeployment becomes Ready with pods scheduled by kube-scheduler onto kwok's GPU nodes and made Ready by
the Deployment controller; drift is restored; a replica change reaches the pool Deployments; a full pool spills
over; a shared cache claim binds to a PersistentVolume; an edge pool's NodeLocal StatefulSet gets node-pinned
claims; deletion leaves the children to the real garbage collector.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chart_install import Release, operator_argv, service_account_kubeconfig
from cluster_support import (
    RBAC_DENIAL,
    OperatorProcess,
    apply,
    eventually,
    example,
    get,
    items,
    md_path,
    operator,
    wait_ready,
)
from genai_sandbox import ControlPlane

MD_LABEL = "genaiops.dev/model-deployment"


@pytest.fixture(scope="module")
def running_operator(
    control_plane: ControlPlane, cluster_release: Release, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    directory = tmp_path_factory.mktemp("lifecycle")
    kubeconfig = service_account_kubeconfig(control_plane, cluster_release, directory)
    with operator(
        kubeconfig, directory / "operator.log", *operator_argv(cluster_release), env=cluster_release.env
    ) as process:
        yield process


def _md(namespace: str, name: str, source: str = "llama-8b-bf16-l4.yaml", **spec: Any) -> dict[str, Any]:
    manifest = example(source)
    manifest["metadata"] = {"name": name, "namespace": namespace}
    manifest["spec"].update(spec)
    return {**manifest, "spec": {k: v for k, v in manifest["spec"].items() if v is not None}}


def _children(plane: ControlPlane, namespace: str, name: str, resource: str) -> list[dict[str, Any]]:
    group = "/api/v1" if resource in ("pods", "services", "persistentvolumeclaims") else "/apis/apps/v1"
    return items(plane, f"{group}/namespaces/{namespace}/{resource}?labelSelector={MD_LABEL}%3D{name}")


def _placement(md: dict[str, Any]) -> dict[str, int]:
    return {p["pool"]: p["replicas"] for p in md["status"].get("placement", []) if p["replicas"]}


def test_a_model_deployment_becomes_ready_on_scheduled_pods(
    control_plane: ControlPlane, running_operator: OperatorProcess, namespace: str
) -> None:
    apply(control_plane, _md(namespace, "llama"))
    md = wait_ready(control_plane, namespace, "llama")
    assert md["status"]["readyReplicas"] == 2
    assert md["status"]["sizing"]["gpuType"] == "nvidia-l4"
    assert _placement(md) == {"cloud-l4": 2}
    pods = _children(control_plane, namespace, "llama", "pods")
    assert len(pods) == 2
    nodes = {n["metadata"]["name"]: n for n in items(control_plane, "/api/v1/nodes")}
    for pod in pods:
        # kube-scheduler put it on an L4 node, honouring the pool's selector, toleration and the GPU request.
        node = nodes[pod["spec"]["nodeName"]]
        assert node["metadata"]["labels"]["nvidia.com/gpu.product"] == "NVIDIA-L4"
        assert pod["status"]["phase"] == "Running"
    service = get(control_plane, f"/api/v1/namespaces/{namespace}/services/llama")
    assert service is not None and service["spec"]["selector"][MD_LABEL] == "llama"
    assert md["status"]["endpoint"].startswith(f"http://llama.{namespace}.svc")
    # The claim of the pool's Shared cache bound to a pre-created ReadWriteMany volume.
    claims = _children(control_plane, namespace, "llama", "persistentvolumeclaims")
    assert claims and all(c["status"]["phase"] == "Bound" for c in claims), claims


def test_drift_is_restored_and_replica_changes_reach_the_pool_deployment(
    control_plane: ControlPlane, running_operator: OperatorProcess, namespace: str
) -> None:
    apply(control_plane, _md(namespace, "llama", replicas=1))
    wait_ready(control_plane, namespace, "llama")
    deployment_path = f"/apis/apps/v1/namespaces/{namespace}/deployments/llama-cloud-l4"
    control_plane.api.must("PATCH", deployment_path, {"spec": {"replicas": 3}}, accept=(200,))
    control_plane.api.must("DELETE", f"/api/v1/namespaces/{namespace}/services/llama", accept=(200,))
    eventually(
        lambda: (d := get(control_plane, deployment_path)) and d["spec"]["replicas"] == 1,
        30,
        what="the Deployment's replicas restored",
    )
    eventually(
        lambda: get(control_plane, f"/api/v1/namespaces/{namespace}/services/llama"), 30, what="Service recreated"
    )

    control_plane.api.request("PATCH", md_path(namespace, "llama"), {"spec": {"replicas": 3}})
    eventually(
        lambda: (d := get(control_plane, deployment_path)) and d["spec"]["replicas"] == 3,
        30,
        what="spec.replicas reaching the Deployment",
    )
    md = wait_ready(control_plane, namespace, "llama")
    assert md["status"]["readyReplicas"] == 3


def test_a_full_pool_spills_over_to_the_next_one(
    control_plane: ControlPlane, running_operator: OperatorProcess, namespace: str
) -> None:
    # Two 4x L4 nodes hold eight one-GPU replicas; ten spill two onto the on-prem A100s.
    apply(
        control_plane,
        _md(
            namespace,
            "wide",
            replicas=10,
            resources={"gpu": {"types": ["nvidia-l4", "nvidia-a100-80gb"]}},
            placement={"pools": ["cloud-l4", "onprem-a100"], "spillover": True},
        ),
    )
    md = wait_ready(control_plane, namespace, "wide", timeout=120)
    placement = _placement(md)
    assert sum(placement.values()) == 10 and set(placement) == {"cloud-l4", "onprem-a100"}, placement
    assert placement["cloud-l4"] <= 8
    running = [p for p in _children(control_plane, namespace, "wide", "pods") if p["status"].get("phase") == "Running"]
    assert len(running) == 10


def test_an_edge_pool_gets_a_statefulset_with_node_pinned_claims(
    control_plane: ControlPlane, running_operator: OperatorProcess, namespace: str
) -> None:
    apply(
        control_plane, _md(namespace, "assistant", source="llama-3b-autoscaled-hybrid.yaml", replicas=2, scaling=None)
    )
    md = wait_ready(control_plane, namespace, "assistant", timeout=120)
    assert _placement(md) == {"edge-orin": 2}
    sets = _children(control_plane, namespace, "assistant", "statefulsets")
    assert len(sets) == 1 and sets[0]["status"].get("readyReplicas") == 2
    claims = [
        c
        for c in items(control_plane, f"/api/v1/namespaces/{namespace}/persistentvolumeclaims")
        if c["spec"].get("storageClassName") == "local-storage"
    ]
    assert len(claims) == 2 and all(c["status"]["phase"] == "Bound" for c in claims), claims
    volumes = {v["metadata"]["name"]: v for v in items(control_plane, "/api/v1/persistentvolumes")}
    pods = {p["metadata"]["name"]: p for p in _children(control_plane, namespace, "assistant", "pods")}
    for claim in claims:
        # WaitForFirstConsumer: the claim bound to the local volume of the node its pod was scheduled to.
        volume = volumes[claim["spec"]["volumeName"]]
        pinned = volume["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"][0]["matchExpressions"][0]["values"]
        pod = next(
            p
            for p in pods.values()
            if any(
                v.get("persistentVolumeClaim", {}).get("claimName") == claim["metadata"]["name"]
                for v in p["spec"]["volumes"]
            )
        )
        assert pod["spec"]["nodeName"] in pinned


def test_deleting_a_model_deployment_leaves_its_children_to_the_garbage_collector(
    control_plane: ControlPlane, running_operator: OperatorProcess, namespace: str
) -> None:
    apply(control_plane, _md(namespace, "doomed", replicas=1))
    wait_ready(control_plane, namespace, "doomed")
    assert _children(control_plane, namespace, "doomed", "deployments")
    control_plane.api.must("DELETE", md_path(namespace, "doomed"), accept=(200,))
    eventually(lambda: get(control_plane, md_path(namespace, "doomed")) is None, 30, what="the ModelDeployment gone")
    for resource in ("deployments", "services", "pods"):
        eventually(
            lambda resource=resource: _children(control_plane, namespace, "doomed", resource) == [],
            60,
            what=f"{resource} collected",
        )


def test_no_request_of_the_operator_was_refused(running_operator: OperatorProcess) -> None:
    assert RBAC_DENIAL.findall(running_operator.log()) == []
