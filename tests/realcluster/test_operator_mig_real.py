"""MIG slices on the real control plane (chart-installed operator, real RBAC, kube-scheduler and kwok nodes):
the kwok node mig-a100-01 advertises nvidia.com/mig-1g.10gb and nvidia.com/mig-2g.20gb as allocatable, and two
small ModelDeployments become Ready on it, sharing its one A100, each pod holding one 1g.10gb slice that the
real scheduler accounted for. Under Dynamic Resource Allocation (a DeviceClass and a ResourceSlice of MIG
devices published here as NVIDIA's driver would), the operator's ResourceClaimTemplate gets each pod a claim
that kube-scheduler allocates to a 1g.10gb device by the CEL selector on the profile attribute."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chart_install import Release, chart_operator
from cluster_support import OperatorProcess, apply, eventually, example, get, items, wait_ready
from genai_sandbox import ControlPlane
from genai_sandbox.nodes import read_inventory
from support.paths import ROOT

MD_LABEL = "genaiops.dev/model-deployment"
SLICE = "nvidia.com/mig-1g.10gb"


@pytest.fixture(scope="module")
def running_operator(
    control_plane: ControlPlane, cluster_release: Release, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    with chart_operator(control_plane, cluster_release, tmp_path_factory.mktemp("mig")) as process:
        yield process


def _md(namespace: str, source: str) -> dict[str, Any]:
    manifest = example(source)
    manifest["metadata"]["namespace"] = namespace
    return manifest


def test_two_small_models_share_one_mig_partitioned_gpu(
    control_plane: ControlPlane, running_operator: OperatorProcess, namespace: str
) -> None:
    node = next(n for n in items(control_plane, "/api/v1/nodes") if n["metadata"]["name"] == "mig-a100-01")
    assert node["status"]["allocatable"][SLICE] == "3"
    apply(control_plane, _md(namespace, "mig-llama-1b.yaml"))
    apply(control_plane, _md(namespace, "mig-qwen-1.5b.yaml"))
    for name in ("mig-llama-1b", "mig-qwen-1-5b"):
        md = wait_ready(control_plane, namespace, name)
        assert md["status"]["sizing"]["slice"]["profile"] == "1g.10gb"
        assert md["status"]["sizing"]["slice"]["resource"] == SLICE
        pods = items(control_plane, f"/api/v1/namespaces/{namespace}/pods?labelSelector={MD_LABEL}%3D{name}")
        assert len(pods) == 1 and pods[0]["status"]["phase"] == "Running", pods
        assert pods[0]["spec"]["nodeName"] == "mig-a100-01"
        assert pods[0]["spec"]["containers"][0]["resources"]["requests"][SLICE] == "1"


DRA_NODE = "dra-a100-01"
DRIVER = "gpu.nvidia.com"


def _dra_objects() -> list[dict[str, Any]]:
    """What NVIDIA's DRA driver publishes for a node with two 1g.10gb slices and one 2g.20gb, and the pool."""
    devices = [
        {"name": f"gpu-0-mig-{index}", "attributes": {"type": {"string": "mig"}, "profile": {"string": profile}}}
        for index, profile in enumerate(("1g.10gb", "1g.10gb", "2g.20gb"))
    ]
    return [
        {
            "apiVersion": "resource.k8s.io/v1",
            "kind": "DeviceClass",
            "metadata": {"name": "mig.nvidia.com"},
            "spec": {"selectors": [{"cel": {"expression": f'device.driver == "{DRIVER}"'}}]},
        },
        {
            "apiVersion": "resource.k8s.io/v1",
            "kind": "ResourceSlice",
            "metadata": {"name": f"{DRA_NODE}-gpu"},
            "spec": {
                "driver": DRIVER,
                "nodeName": DRA_NODE,
                "pool": {"name": DRA_NODE, "generation": 1, "resourceSliceCount": 1},
                "devices": devices,
            },
        },
        {
            "apiVersion": "genaiops.dev/v1alpha1",
            "kind": "PlacementPool",
            "metadata": {"name": "onprem-a100-dra"},
            "spec": {
                "tier": "OnPrem",
                "nodeSelector": {"kubernetes.io/hostname": DRA_NODE},
                "gpu": {
                    "type": "nvidia-a100-80gb",
                    "slices": {"profiles": ["1g.10gb", "2g.20gb"], "deviceClassName": "mig.nvidia.com"},
                },
            },
        },
    ]


@pytest.fixture
def dra_node(control_plane: ControlPlane) -> Iterator[None]:
    """A kwok node without MIG extended resources (DRA hands out its slices), its devices and a DRA pool."""
    template = next(
        n
        for n in read_inventory(ROOT / "examples" / "inventory" / "nodes.yaml")
        if n["metadata"]["name"] == "mig-a100-01"
    )
    node = {**template, "metadata": {**template["metadata"], "name": DRA_NODE}}
    labels = {k: v for k, v in node["metadata"]["labels"].items() if not k.startswith("nvidia.com/mig-")}
    node["metadata"]["labels"] = {**labels, "kubernetes.io/hostname": DRA_NODE, "nvidia.com/mig-1g.10gb.count": "2"}
    for part in ("allocatable", "capacity"):
        node["status"][part] = {k: v for k, v in node["status"][part].items() if not k.startswith("nvidia.com/")}
    control_plane.wait_nodes_ready(control_plane.add_nodes([node]))
    objects = _dra_objects()
    for obj in objects:
        apply(control_plane, obj)
    yield
    for obj in reversed(objects):
        control_plane.kubectl("delete", obj["kind"], obj["metadata"]["name"], "--wait=false")
    control_plane.api.request("DELETE", f"/api/v1/nodes/{DRA_NODE}")


def test_dra_claims_a_slice_by_its_profile(
    control_plane: ControlPlane, running_operator: OperatorProcess, namespace: str, dra_node: None
) -> None:
    manifest = _md(namespace, "mig-llama-1b.yaml")
    manifest["spec"]["placement"] = {"pools": ["onprem-a100-dra"]}
    apply(control_plane, manifest)
    md = wait_ready(control_plane, namespace, "mig-llama-1b")
    assert md["status"]["sizing"]["slice"] == {
        "profile": "1g.10gb",
        "deviceClassName": "mig.nvidia.com",
        "memoryBytes": 9728 * 2**20,
    }
    template = get(
        control_plane,
        f"/apis/resource.k8s.io/v1/namespaces/{namespace}/resourceclaimtemplates/mig-llama-1b-onprem-a100-dra-mig-slice",
    )
    assert template is not None
    pods = items(control_plane, f"/api/v1/namespaces/{namespace}/pods?labelSelector={MD_LABEL}%3Dmig-llama-1b")
    assert len(pods) == 1 and pods[0]["spec"]["nodeName"] == DRA_NODE
    assert "nvidia.com/gpu" not in pods[0]["spec"]["containers"][0]["resources"].get("limits", {})
    claims = eventually(
        lambda: [
            c
            for c in items(control_plane, f"/apis/resource.k8s.io/v1/namespaces/{namespace}/resourceclaims")
            if (c.get("status") or {}).get("allocation")
        ],
        what="an allocated ResourceClaim",
    )
    (result,) = claims[0]["status"]["allocation"]["devices"]["results"]
    assert (result["driver"], result["pool"]) == (DRIVER, DRA_NODE)
    assert result["device"] in ("gpu-0-mig-0", "gpu-0-mig-1")  # a 1g.10gb device, never the 2g.20gb one
