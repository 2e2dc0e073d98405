"""Multi-node sizing (sizing/multinode.py, planning/group_plan.py): a replica no node holds becomes a group of
nodes, tensor parallel per node (respecting head divisibility) x pipeline parallel across nodes; a model one
node holds stays on one node; the pool's nodes bound the group; placement counts a group as whole nodes."""

from __future__ import annotations

from typing import Any

from genai_operator.api.enums import Engine, KvCacheDtype, Precision, QuantMethod
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.placement.assemble import build_pools
from genai_operator.placement.inventory import node_view, replicas_that_fit
from genai_operator.placement.packing import PoolLedger
from genai_operator.placement.types import Pool
from genai_operator.planning.plan import plan_model_deployment
from genai_operator.sizing.model_catalog import model_by_key
from genai_operator.sizing.multinode import size_group, tensor_parallel_per_node
from genai_operator.sizing.types import ModelShape, SizingDecision, SizingRequest
from support.node_objects import nvidia_node
from support.render_fixtures import H100

H100_MIB = 81559
LLAMA_405B = "hf://meta-llama/Llama-3.1-405B-Instruct"


def md(uri: str = LLAMA_405B, **spec: Any) -> ModelDeployment:
    body = {"model": {"uri": uri}, "engine": "VLLM", "resources": {"gpu": {"types": ["nvidia-h100-80gb"]}}, **spec}
    return ModelDeployment.model_validate(
        {"apiVersion": "genaiops.dev/v1alpha1", "kind": "ModelDeployment", "metadata": {"name": "m"}, "spec": body}
    )


def h100_pools(*counts: int, requested: dict[str, int] | None = None) -> list[Pool]:
    nodes = [node_view(nvidia_node(f"h100-{i}", "NVIDIA-H100-80GB-HBM3", H100_MIB, c)) for i, c in enumerate(counts)]
    return build_pools([], nodes, requested)


def request(shape: ModelShape, **kw: Any) -> SizingRequest:
    values: dict[str, Any] = {
        "parameters": shape.parameters,
        "shape": shape,
        "precision": Precision.BF16,
        "method": QuantMethod.NONE,
        "gguf_type": None,
        "kv_cache": KvCacheDtype.AUTO,
        "max_context": 8192,
        "max_sequences": None,
        "gpu_memory_utilization_percent": 90,
        "engine": Engine.VLLM,
    }
    return SizingRequest(**{**values, **kw})


def shape_405b() -> ModelShape:
    shape = model_by_key("llama-3.1-405b")
    assert shape is not None
    return shape


def test_405b_bf16_is_two_nodes_of_eight_h100() -> None:
    decision = plan_model_deployment(md(quantization={"precision": "BF16"}), h100_pools(8, 8))
    sizing = decision.assignments[0].sizing
    assert decision.fits and decision.replicas == 1
    assert (sizing.nodes, sizing.gpus_per_replica, sizing.tensor_parallel, sizing.total_gpus) == (2, 8, 8, 16)
    assert sizing.estimate.precision is Precision.BF16 and sizing.kv_tokens > 0


def test_auto_precision_prefers_one_node_at_fp8() -> None:
    sizing = plan_model_deployment(md(), h100_pools(8, 8)).assignments[0].sizing
    assert (sizing.nodes, sizing.estimate.precision) == (1, Precision.FP8)


def test_a_model_one_node_holds_stays_on_one_node() -> None:
    decision = plan_model_deployment(md("hf://meta-llama/Llama-3.1-70B-Instruct"), h100_pools(8, 8))
    assert decision.assignments[0].sizing.nodes == 1


def test_four_gpu_nodes_make_tensor_parallel_four() -> None:
    sizing = plan_model_deployment(md(quantization={"precision": "BF16"}), h100_pools(4, 4, 4, 4)).assignments[0]
    assert (sizing.sizing.nodes, sizing.sizing.tensor_parallel) == (4, 4)


def test_a_pool_of_one_node_cannot_hold_a_group() -> None:
    decision = plan_model_deployment(md(quantization={"precision": "BF16"}), h100_pools(8))
    assert not decision.fits
    assert any("has one node" in r for r in decision.reasons), decision.reasons


def test_tensor_parallel_respects_head_divisibility() -> None:
    # 28 attention heads, 4 KV heads (Qwen2.5-7B-like): 8 does not divide 28, so 4 ranks per node.
    shape = ModelShape("odd", (), 7_000_000_000, 28, 28, 4, 128, 3584, 152064)
    assert tensor_parallel_per_node(request(shape), 8) == (4, "")
    assert tensor_parallel_per_node(request(shape), 6)[0] == 4
    group = size_group(request(shape_405b()), H100, 8)
    assert isinstance(group, SizingDecision) and group.tensor_parallel == 8


def test_group_sizing_only_for_vllm_with_gpu_count_auto() -> None:
    assert "only on vLLM" in str(size_group(request(shape_405b(), engine=Engine.SGLANG), H100, 8))
    assert "gpu.count" in str(size_group(request(shape_405b(), gpu_count=8), H100, 8))


def test_placement_counts_a_group_as_whole_nodes() -> None:
    pools = h100_pools(8, 8, 8, 8, requested={"h100-0": 1})
    capacity = pools[0].capacity
    assert capacity is not None and capacity.gpus_per_node == 8
    assert replicas_that_fit(capacity, 8, 0, nodes=2) == 1  # three whole free nodes: one group of two
    ledger = PoolLedger(pools[0])
    placed = ledger.take(8, 0, 2, nodes=2)
    assert (placed.on_nodes, placed.pending, ledger.used_gpus, ledger.short_gpus) == (1, 1, 16, 16)
