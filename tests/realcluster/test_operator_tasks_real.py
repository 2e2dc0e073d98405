"""The new engines and tasks on the real control plane (chart-installed operator, real RBAC, kube-scheduler
and kwok nodes): an SGLang ModelDeployment becomes Ready on an L4 node, and an embedding ModelDeployment
served by TEI becomes Ready on the store's CPU-only edge pool, its pod on the amd64 node the TEI image needs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chart_install import Release, chart_operator
from cluster_support import OperatorProcess, apply, example, items, wait_ready
from genai_sandbox import ControlPlane

MD_LABEL = "genaiops.dev/model-deployment"


@pytest.fixture(scope="module")
def running_operator(
    control_plane: ControlPlane, cluster_release: Release, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    with chart_operator(control_plane, cluster_release, tmp_path_factory.mktemp("tasks")) as process:
        yield process


def _md(namespace: str, source: str) -> dict[str, Any]:
    manifest = example(source)
    manifest["metadata"]["namespace"] = namespace
    manifest["spec"].pop("scaling", None)  # the autoscaler is another module's subject
    return manifest


def _pod_nodes(plane: ControlPlane, namespace: str, name: str) -> list[dict[str, Any]]:
    pods = items(plane, f"/api/v1/namespaces/{namespace}/pods?labelSelector={MD_LABEL}%3D{name}")
    nodes = {n["metadata"]["name"]: n for n in items(plane, "/api/v1/nodes")}
    assert pods and all(p["status"]["phase"] == "Running" for p in pods), pods
    return [nodes[p["spec"]["nodeName"]] for p in pods]


def test_an_sglang_model_deployment_becomes_ready(
    control_plane: ControlPlane, running_operator: OperatorProcess, namespace: str
) -> None:
    apply(control_plane, _md(namespace, "qwen-7b-sglang.yaml"))
    md = wait_ready(control_plane, namespace, "qwen-sglang")
    sizing = md["status"]["sizing"]
    assert (sizing["task"], sizing["engine"], sizing["gpuType"]) == ("TextGeneration", "SGLang", "nvidia-l4")
    for node in _pod_nodes(control_plane, namespace, "qwen-sglang"):
        assert node["metadata"]["labels"]["nvidia.com/gpu.product"] == "NVIDIA-L4"


def test_an_embedding_model_deployment_becomes_ready_on_a_cpu_edge_pool(
    control_plane: ControlPlane, running_operator: OperatorProcess, namespace: str
) -> None:
    apply(control_plane, _md(namespace, "rag-store-embedding.yaml"))
    md = wait_ready(control_plane, namespace, "rag-embed")
    sizing = md["status"]["sizing"]
    assert (sizing["task"], sizing["engine"], sizing["gpuType"]) == ("TextEmbedding", "TEI", "cpu")
    assert sizing["kvCacheBytes"] == 0
    assert [p["pool"] for p in md["status"]["placement"]] == ["store-cpu"]
    for node in _pod_nodes(control_plane, namespace, "rag-embed"):
        labels = node["metadata"]["labels"]
        assert labels["apps.openyurt.io/nodepool"] == "store-42" and labels["kubernetes.io/arch"] == "amd64"
