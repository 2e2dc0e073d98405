"""MIG slices on the real control plane (chart-installed operator, real RBAC, kube-scheduler and kwok nodes):
the kwok node mig-a100-01 advertises nvidia.com/mig-1g.10gb and nvidia.com/mig-2g.20gb as allocatable, and two
small ModelDeployments become Ready on it, sharing its one A100, each pod holding one 1g.10gb slice that the
real scheduler accounted for."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chart_install import Release, operator_argv, service_account_kubeconfig
from cluster_support import OperatorProcess, apply, example, items, operator, wait_ready
from genai_sandbox import ControlPlane

MD_LABEL = "genaiops.dev/model-deployment"
SLICE = "nvidia.com/mig-1g.10gb"


@pytest.fixture(scope="module")
def running_operator(
    control_plane: ControlPlane, cluster_release: Release, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    directory = tmp_path_factory.mktemp("mig")
    kubeconfig = service_account_kubeconfig(control_plane, cluster_release, directory)
    with operator(
        kubeconfig, directory / "operator.log", *operator_argv(cluster_release), env=cluster_release.env
    ) as process:
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
