"""The operator on the emulated cluster with the new engines and tasks: an SGLang ModelDeployment and the RAG
trio of an edge store (llama.cpp chat, TEI embedding and reranker on CPU nodes) reach Ready with the right
engine, task and sizing in status; a TGI one is Ready and reports SpecValid reason Deprecated."""

from __future__ import annotations

import pytest

from support.operator_harness import DEPLOYMENTS, OperatorHarness, condition, eventually, example, is_ready

pytestmark = pytest.mark.integration


@pytest.fixture
async def harness() -> OperatorHarness:  # type: ignore[misc]
    async with OperatorHarness(options={"resync_seconds": 1.0}) as h:
        yield h


def container(harness: OperatorHarness, namespace: str, name: str) -> dict[str, object]:
    dep = harness.cluster.get(DEPLOYMENTS, namespace, name)
    assert dep is not None, name
    containers: list[dict[str, object]] = dep["spec"]["template"]["spec"]["containers"]
    return containers[0]


async def test_sglang_model_deployment_becomes_ready(harness: OperatorHarness) -> None:
    await harness.create(example("qwen-7b-sglang.yaml"))
    md = await eventually(lambda: (o := harness.md("ml", "qwen-sglang")) and is_ready(o) and o, timeout=30)
    sizing = md["status"]["sizing"]
    assert (sizing["task"], sizing["engine"], sizing["gpuType"]) == ("TextGeneration", "SGLang", "nvidia-l4")
    assert condition(md, "SpecValid")["reason"] == "SpecValid"
    engine = container(harness, "ml", "qwen-sglang-cloud-l4")
    assert engine["image"] == "lmsysorg/sglang:v0.5.19-cu129"
    assert "--enable-metrics" in engine["args"]  # type: ignore[operator]


async def test_rag_trio_on_an_edge_store_becomes_ready(harness: OperatorHarness) -> None:
    for name in ("rag-store-chat.yaml", "rag-store-embedding.yaml", "rag-store-reranker.yaml"):
        await harness.create(example(name))
    expected = {
        "rag-chat": ("TextGeneration", "LlamaCpp"),
        "rag-embed": ("TextEmbedding", "TEI"),
        "rag-rerank": ("Reranking", "TEI"),
    }
    for name, (task, engine) in expected.items():
        md = await eventually(lambda n=name: (o := harness.md("stores", n)) and is_ready(o) and o, timeout=30)
        sizing = md["status"]["sizing"]
        assert (sizing["task"], sizing["engine"], sizing["gpuType"]) == (task, engine, "cpu"), name
        assert sizing["kvCacheBytes"] == 0 or engine == "LlamaCpp"
        assert [p["pool"] for p in md["status"]["placement"]] == ["store-cpu"]
    embed = container(harness, "stores", "rag-embed-store-cpu")
    assert embed["image"] == "ghcr.io/huggingface/text-embeddings-inference:cpu-1.8"


async def test_tgi_is_ready_and_reported_deprecated(harness: OperatorHarness) -> None:
    await harness.create(example("mistral-7b-tgi.yaml"))
    md = await eventually(lambda: (o := harness.md("ml", "mistral-tgi")) and is_ready(o) and o, timeout=30)
    spec_valid = condition(md, "SpecValid")
    assert spec_valid["status"] == "True" and spec_valid["reason"] == "Deprecated"
    assert "consider VLLM or SGLang" in spec_valid["message"]
    warnings = await eventually(
        lambda: [e for e in harness.cluster.list("v1/events", "ml") if e.get("reason") == "Deprecated"]
    )
    assert warnings[0]["type"] == "Warning" and "maintenance mode upstream" in warnings[0]["message"]
