"""Planning many models onto one inventory: best-fit packing per node (tensor-parallel replicas are not
blocked by fragmentation), CPU pools consuming memory per node, the largest-first second pass and when
it wins, the report kept in input order, and the per-hardware-class sizing cache agreeing with plain
planning on the sample and synthetic inventories.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

import genai_operator.planning.fleet_report as plan_report
from genai_operator.api.loading import read_documents, split_manifests
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.placement.assemble import build_pools
from genai_operator.placement.inventory import node_view
from genai_operator.placement.packing import Ledger, PoolLedger, consume
from genai_operator.placement.types import Pool
from genai_operator.planning.fleet_report import ORDER_INPUT, ORDER_LARGEST, plan_all
from genai_operator.planning.plan import PoolPlan, plan_pool
from genai_operator.planning.usage import replica_gpu_bound
from genai_operator.settings import Settings
from support.node_objects import nvidia_node, openyurt_node
from support.paths import ROOT

EXAMPLES = ROOT / "examples"


def model(name: str, uri: str, replicas: int = 1, **spec: Any) -> ModelDeployment:
    body: dict[str, Any] = {"model": {"uri": uri}, "replicas": replicas, **spec}
    return ModelDeployment.model_validate(
        {
            "apiVersion": "genaiops.dev/v1alpha1",
            "kind": "ModelDeployment",
            "metadata": {"name": name, "namespace": "ml"},
            "spec": body,
        }
    )


def tp4_on_l4(name: str, replicas: int = 1, pools: list[str] | None = None) -> ModelDeployment:
    """Gemma 2 27B in BF16 (~79 GiB with its KV cache): four L4s, tensor parallel 4."""
    placement = {"placement": {"pools": pools}} if pools else {}
    return model(
        name,
        "hf://google/gemma-2-27b-it",
        replicas,
        quantization={"precision": "BF16"},
        serving={"maxContextLength": 8192, "maxConcurrentSequences": 8},
        resources={"gpu": {"types": ["nvidia-l4"]}},
        **placement,
    )


def one_l4(name: str, replicas: int = 1) -> ModelDeployment:
    return model(
        name,
        "hf://meta-llama/Llama-3.1-8B-Instruct",
        replicas,
        quantization={"precision": "BF16"},
        serving={"maxContextLength": 8192, "maxConcurrentSequences": 4},
        resources={"gpu": {"types": ["nvidia-l4"]}},
    )


def sample_pools() -> list[Pool]:
    _, manifests, _ = split_manifests(read_documents(str(EXAMPLES / "inventory" / "pools.yaml")))
    _, _, nodes = split_manifests(read_documents(str(EXAMPLES / "inventory" / "nodes.yaml")))
    return build_pools(manifests, [node_view(n) for n in nodes]) or []


def examples() -> list[ModelDeployment]:
    deployments, _, _ = split_manifests(read_documents(str(EXAMPLES)))
    return deployments


def l4_nodes(*counts: int) -> list[Pool]:
    nodes = [node_view(nvidia_node(f"l4-{i}", "NVIDIA-L4", 23034, c)) for i, c in enumerate(counts)]
    return build_pools([], nodes) or []


def by_name(result: plan_report.PlanResult) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in result.entries}


def test_ledger_places_each_replica_on_the_tightest_node() -> None:
    [pool] = l4_nodes(4, 2, 1)
    ledger = PoolLedger(pool)
    ledger.take(1, 0, 1)
    assert ledger.free_gpus == (4, 2, 0)  # the 1-GPU node, not the 4-GPU one
    ledger.take(2, 0, 1)
    assert ledger.free_gpus == (4, 0, 0)
    placed = ledger.take(4, 0, 2)
    assert (placed.on_nodes, placed.pending) == (1, 1) and ledger.free_gpus == (0, 0, 0)
    cap = ledger.capacity()
    assert cap is not None and cap.gpus_requested == 7 and cap.gpus_free == 0 and cap.max_gpus_per_node == 0


def test_consume_takes_gpus_and_cpu_memory() -> None:
    [pool] = l4_nodes(4, 4)
    after = consume(pool, 2, 3)
    assert after.capacity is not None and after.capacity.free_gpus_per_node == (2, 0)
    [store] = build_pools([], [node_view(openyurt_node(f"s{i}", "store-1", memory_gib=16)) for i in range(2)]) or []
    assert store.capacity is not None
    before = store.capacity.free_memory_bytes_per_node
    after = consume(store, 0, 1, 2 * 2**30)
    assert after.capacity is not None
    assert sorted(after.capacity.free_memory_bytes_per_node) == sorted([before[0] - 2 * 2**30, before[1]])


def test_two_tp4_models_fill_the_two_four_gpu_l4_nodes_of_the_sample() -> None:
    result = plan_all(
        [tp4_on_l4("a", pools=["cloud-l4"]), tp4_on_l4("b", pools=["cloud-l4"])], sample_pools(), Settings()
    )
    assert all(e["fits"] and e["tensorParallel"] == 4 and not e["reasons"] for e in result.entries)
    assert [e["placement"] for e in result.entries] == [[{"pool": "cloud-l4", "replicas": 1}]] * 2
    l4 = next(u for u in result.pools if u.name == "cloud-l4")
    assert (l4.gpus_total, l4.gpus_used, l4.gpus_free, l4.pending) == (8, 8, 0, 0)
    assert result.summary.pending == 0 and result.summary.gpus_used == result.summary.gpus_bound == 8


def test_small_replicas_first_do_not_fragment_the_nodes() -> None:
    # Best fit stacks the 1-GPU replicas on one node, so a whole node stays free for the TP=4 replica
    # (spreading them would leave 3 + 3 free GPUs and no room for it), and the TP=2 one fills the rest.
    tp2 = model(
        "c",
        "hf://meta-llama/Llama-3.1-8B-Instruct",
        quantization={"precision": "BF16"},
        resources={"gpu": {"types": ["nvidia-l4"], "count": 2}},
    )
    result = plan_all([one_l4("a", replicas=2), tp4_on_l4("b"), tp2], l4_nodes(4, 4), Settings())
    assert result.summary.pending == 0 and result.summary.order == ORDER_INPUT
    assert result.pools[0].gpus_used == 8 and result.pools[0].gpus_free == 0


def test_largest_first_wins_when_input_order_leaves_replicas_without_a_node() -> None:
    nodes = [nvidia_node("h100-0", "NVIDIA-H100-80GB-HBM3", 81559, 8), nvidia_node("l4-0", "NVIDIA-L4", 23034, 4)]
    pools = build_pools([], [node_view(n) for n in nodes])
    small = model(
        "small",
        "hf://meta-llama/Llama-3.1-8B-Instruct",
        quantization={"precision": "BF16"},
        resources={"gpu": {"types": ["nvidia-h100-80gb", "nvidia-l4"]}},
    )
    big = model(
        "big",
        "hf://meta-llama/Llama-3.1-405B-Instruct",
        quantization={"precision": "FP8", "method": "FP8"},
        serving={"maxContextLength": 4096, "maxConcurrentSequences": 4},
        resources={"gpu": {"types": ["nvidia-h100-80gb"]}},
    )
    result = plan_all([small, big], pools, Settings())
    assert result.summary.order == ORDER_LARGEST and result.summary.pending == 0
    assert [e["name"] for e in result.entries] == ["small", "big"]  # reported in input order
    entries = by_name(result)
    assert entries["big"]["placement"] == [{"pool": "cloud-nvidia-h100-80gb", "replicas": 1}]
    assert entries["small"]["placement"] == [{"pool": "cloud-nvidia-l4", "replicas": 1}]


def test_input_order_kept_when_largest_first_is_no_better() -> None:
    # The examples already use 5 of the 8 sample L4s; two TP=4 models more cannot all fit. Largest
    # first would place both TP=4 replicas but strand five smaller ones, so the input order stays.
    result = plan_all([*examples(), tp4_on_l4("tp4-a"), tp4_on_l4("tp4-b")], sample_pools(), Settings())
    assert result.summary.order == ORDER_INPUT and result.summary.pending == 2
    tp4 = by_name(result)["tp4-a"]
    assert tp4["fits"] and tp4["placement"] == [{"pool": "cloud-l4", "replicas": 1}]
    assert "1 replica(s) exceed the free capacity" in tp4["reasons"][0]
    assert "needs 4 more nvidia-l4 GPUs in pool cloud-l4 (1 more node(s) with 4 GPUs)" in tp4["reasons"]
    assert result.without_node[-1] == {"cloud-l4": 1}


def test_cpu_pool_replicas_consume_memory_per_node() -> None:
    store_nodes = [node_view(openyurt_node(f"s{i}", "store-1", memory_gib=16)) for i in range(2)]
    pools = build_pools([], store_nodes) or []
    gguf = {
        "quantization": {"method": "GGUF", "ggufType": "Q4_K_M"},
        "engine": "LlamaCpp",
        "serving": {"maxContextLength": 4096, "maxConcurrentSequences": 4},
        "placement": {"pools": ["edge-store-1-cpu"]},
    }
    result = plan_all([model("q", "hf://Qwen/Qwen2.5-1.5B-Instruct-GGUF", 40, **gguf)], pools, Settings())
    [entry] = result.entries
    size = entry["totalBytesPerReplica"]
    per_node = min(pools[0].capacity.free_memory_bytes_per_node) // size  # type: ignore[union-attr]
    usage = result.pools[0]
    assert usage.replicas == 2 * per_node and usage.pending == 40 - 2 * per_node
    assert usage.memory_used == usage.replicas * size
    assert any("more node(s) with" in r and "pool edge-store-1-cpu" in r for r in entry["reasons"])


@pytest.mark.parametrize("scale", [1, 3])
def test_sizing_cache_and_early_stop_agree_with_plain_planning(monkeypatch: pytest.MonkeyPatch, scale: int) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import plan_scale

    class Plain:
        def __call__(self, spec: Any, pool: Pool, settings: Settings) -> PoolPlan | str:
            return plan_pool(spec, pool, settings)

    cases = [
        (examples(), sample_pools()),
        (
            plan_scale.synthetic_models(120, seed=5, replicas_scale=scale),
            build_pools([], [node_view(n) for n in plan_scale.synthetic_nodes(400, seed=5)]),
        ),
    ]
    for deployments, pools in cases:
        cached = plan_all(deployments, pools, Settings())
        monkeypatch.setattr(plan_report, "PoolPlanCache", Plain)
        plain = plan_all(deployments, pools, Settings(), complete=True)  # every pool sized, no early stop
        monkeypatch.undo()
        assert cached.entries == plain.entries
        assert cached.summary == plain.summary and cached.pools == plain.pools


def test_lower_bound_per_replica_never_exceeds_the_gpus_it_got() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import plan_scale

    deployments = plan_scale.synthetic_models(200, seed=9)
    pools = build_pools([], [node_view(n) for n in plan_scale.synthetic_nodes(500, seed=9)]) or []
    ledger = Ledger(pools)
    for md in deployments:
        decision = plan_report.plan_model_deployment(md, ledger.current(), Settings())
        for a in decision.assignments:
            bound = replica_gpu_bound(a, md.spec.serving.gpu_memory_utilization_percent)
            assert (bound == 0) == (a.sizing.gpus_per_replica == 0)
            assert bound <= a.sizing.gpus_per_replica


def test_sample_plan_uses_no_more_gpus_than_the_bound() -> None:
    result = plan_all(examples(), sample_pools(), Settings())
    summary = result.summary
    assert summary.models == summary.models_fitting == len(examples())
    assert (summary.pending, summary.waiting) == (0, 0)
    # MIG slice pools count slices, not GPUs: the summary leaves them out.
    assert summary.gpus_used == summary.gpus_bound == sum(u.gpus_used for u in result.pools if not u.slices)
    # 46: the 405B example's two-node group brought two more 8x H100 nodes into the sample inventory.
    assert summary.ratio == 1.0 and summary.gpus_total == 46
