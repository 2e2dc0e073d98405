"""PlacementPools without spec.gpu (issue 16): a pool of GPU nodes is a GPU pool of the type its GFD or AMD
labels name (status.gpuType); mixed or unknown types are a status condition; "has no GPUs" only for CPU nodes."""

from __future__ import annotations

from typing import Any

from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.placementpool import PlacementPool
from genai_operator.placement.assemble import build_pools
from genai_operator.placement.inventory import node_view
from genai_operator.planning.plan import plan_model_deployment
from genai_operator.status.placement_pool import pool_status
from support.node_objects import amd_node, node, nvidia_node

NOW = "2025-01-01T00:00:00Z"


def pool(name: str, selector: dict[str, str], **spec: Any) -> PlacementPool:
    return PlacementPool.model_validate(
        {
            "apiVersion": "genaiops.dev/v1alpha1",
            "kind": "PlacementPool",
            "metadata": {"name": name},
            "spec": {"tier": "Cloud", "nodeSelector": selector, **spec},
        }
    )


def llama_70b(engine: str = "Auto") -> ModelDeployment:
    return ModelDeployment.model_validate(
        {
            "apiVersion": "genaiops.dev/v1alpha1",
            "kind": "ModelDeployment",
            "metadata": {"name": "m", "namespace": "ml"},
            "spec": {
                "model": {"uri": "hf://meta-llama/Llama-3.1-70B-Instruct"},
                "quantization": {"precision": "BF16"},
                "engine": engine,
                "placement": {"pools": ["cloud-a100"]},
            },
        }
    )


A100 = ("NVIDIA-A100-SXM4-80GB", 81920)


def a100_nodes(count: int, **labels: str) -> list[Any]:
    return [node_view(nvidia_node(f"a100-{i}", *A100, 8, labels={"pool": "a100", **labels})) for i in range(count)]


def test_gpu_nodes_without_spec_gpu_make_a_gpu_pool() -> None:
    pools = build_pools([pool("cloud-a100", {"pool": "a100"})], a100_nodes(2))
    assert pools is not None
    (a100,) = pools
    assert not a100.cpu_only and a100.gpu is not None and a100.gpu.key == "nvidia-a100-80gb"
    assert a100.capacity is not None and a100.capacity.gpus_allocatable == 16
    decision = plan_model_deployment(llama_70b(), pools)
    assert decision.fits, decision.reasons
    assert decision.assignments[0].sizing.gpus_per_replica == 4
    status = pool_status(a100, 1, None, NOW)
    assert status["gpuType"] == "nvidia-a100-80gb"
    detected = {c["type"]: c for c in status["conditions"]}["GpuTypeDetected"]
    assert detected["status"] == "True"


def test_cpu_nodes_are_still_a_cpu_pool() -> None:
    nodes = [node_view(node("cpu-0", {"pool": "a100"}))]
    pools = build_pools([pool("cloud-a100", {"pool": "a100"})], nodes)
    assert pools is not None and pools[0].cpu_only
    decision = plan_model_deployment(llama_70b("VLLM"), pools)
    assert not decision.fits and "has no GPUs" in decision.reasons[0]


def test_mixed_gpu_types_say_what_to_set() -> None:
    l4 = node_view(nvidia_node("l4-0", "NVIDIA-L4", 23034, 4, labels={"pool": "a100"}))
    pools = build_pools([pool("cloud-a100", {"pool": "a100"})], [*a100_nodes(1), l4])
    assert pools is not None
    (mixed,) = pools
    assert not mixed.cpu_only and mixed.gpu is None
    conditions = {c["type"]: c for c in pool_status(mixed, 1, None, NOW)["conditions"]}
    assert conditions["GpuTypeDetected"]["status"] == "False"
    assert "nvidia-a100-80gb, nvidia-l4" in conditions["GpuTypeDetected"]["message"]
    assert "spec.gpu.type" in conditions["GpuTypeDetected"]["message"]


def test_amd_nodes_are_detected_with_their_resource() -> None:
    nodes = [node_view(amd_node("mi-0", "AMD_Instinct_MI300X", "192G", 8))]
    pools = build_pools([pool("mi300", {"amd.com/gpu.product-name": "AMD_Instinct_MI300X"})], nodes)
    assert pools is not None
    assert pools[0].gpu is not None and pools[0].gpu.key == "amd-mi300x" and pools[0].gpu_resource == "amd.com/gpu"


def test_without_nodes_a_gpu_selector_means_a_gpu_pool() -> None:
    pools = build_pools([pool("cloud-a100", {"nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"})], None)
    assert pools is not None and not pools[0].cpu_only and pools[0].gpu is not None
