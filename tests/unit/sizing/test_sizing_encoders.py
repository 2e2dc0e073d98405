"""Sizing of embedding and reranking models: the encoder catalog's parameter counts against the published
ones, no KV cache, the batch-token budget, float32 on CPU and float16 on GPU, one GPU per replica, refusals
with reasons (Jetson, AMD, a batch larger than the node), and SGLang's overheads next to vLLM's."""

from __future__ import annotations

from dataclasses import replace

import pytest

from genai_operator.api.enums import Engine, KvCacheDtype, Precision, QuantMethod
from genai_operator.formats.quantity import GIB
from genai_operator.sizing.encoder_catalog import all_encoders, lookup_encoder
from genai_operator.sizing.encoders import encoder_batch, estimate_encoder, size_encoder, size_encoder_cpu
from genai_operator.sizing.gpu_catalog import gpu_by_key
from genai_operator.sizing.model_catalog import model_by_key
from genai_operator.sizing.overhead import gpu_overhead_bytes, prefill_tokens
from genai_operator.sizing.types import GpuType, ModelShape, SizingRequest

# The parameter counts on the model pages (safetensors "Model size").
PUBLISHED = {
    "bge-small-en-v1.5": 33_360_000,
    "bge-base-en-v1.5": 109_482_240,
    "bge-large-en-v1.5": 335_141_888,
    "bge-reranker-base": 278_044_417,
    "bge-reranker-large": 559_891_457,
}


def gpu(key: str) -> GpuType:
    found = gpu_by_key(key)
    assert found is not None
    return found


def request(uri: str = "hf://BAAI/bge-small-en-v1.5", *, sequences: int | None = None) -> SizingRequest:
    shape = lookup_encoder(uri)
    assert shape is not None
    return SizingRequest(
        parameters=shape.parameters,
        shape=shape,
        precision=Precision.AUTO,
        method=QuantMethod.NONE,
        gguf_type=None,
        kv_cache=KvCacheDtype.AUTO,
        max_context=8192,
        max_sequences=sequences,
        gpu_memory_utilization_percent=90,
        engine=Engine.TEI,
    )


@pytest.mark.parametrize("shape", all_encoders(), ids=lambda s: s.key)
def test_catalog_parameters_match_the_published_counts(shape: ModelShape) -> None:
    assert shape.parameters == PUBLISHED[shape.key]


def test_batch_is_the_model_context_times_the_sequences() -> None:
    batch = encoder_batch(request())
    assert (batch.max_context, batch.sequences, batch.tokens) == (512, 32, 16384)  # TEI's own defaults
    assert encoder_batch(request(sequences=8)).tokens == 4096


def test_cpu_sizing_is_float32_without_kv_cache() -> None:
    decision = size_encoder_cpu(request(), 16 * GIB)
    est = decision.estimate
    assert decision.fits and decision.gpu is None and decision.gpus_per_replica == 0
    assert est.precision is Precision.FP32 and est.weights_bytes == 33_360_000 * 4
    assert est.kv_cache_bytes == 0 and decision.kv_tokens == 0
    assert est.total_bytes < 2 * GIB  # a small model: fits a store's CPU node with room to spare
    assert decision.batch_sequences == 32 and decision.max_context == 512


def test_gpu_sizing_is_float16_on_one_gpu_and_a_bigger_batch_costs_more() -> None:
    small = size_encoder(request("hf://BAAI/bge-reranker-base"), [gpu("nvidia-l4")])
    large = size_encoder(request("hf://BAAI/bge-reranker-base", sequences=128), [gpu("nvidia-l4")])
    assert small.fits and small.gpus_per_replica == 1 and small.tensor_parallel == 1
    assert small.estimate.precision is Precision.FP16 and small.estimate.weights_bytes == 278_044_417 * 2
    assert large.estimate.total_bytes > small.estimate.total_bytes
    assert large.estimate.weights_bytes == small.estimate.weights_bytes


def test_jetson_and_amd_are_refused_with_a_reason() -> None:
    decision = size_encoder(request(), [gpu("nvidia-jetson-agx-orin-64gb"), gpu("amd-mi300x")])
    assert not decision.fits
    reason = decision.reasons[0]
    assert "amd64 servers only" in reason and "no image for AMD" in reason and "CPU pool" in reason


def test_a_batch_larger_than_the_node_is_refused_naming_the_knob() -> None:
    decision = size_encoder_cpu(request("hf://BAAI/bge-reranker-large", sequences=2048), 4 * GIB)
    assert not decision.fits and "maxConcurrentSequences" in decision.reasons[0]


def test_sglang_overheads_exceed_vllms_graphs_and_follow_its_chunked_prefill() -> None:
    shape = model_by_key("llama-3.1-8b")
    assert shape is not None
    l4, h100 = gpu("nvidia-l4"), gpu("nvidia-h100-80gb")
    assert prefill_tokens(Engine.SGLANG, l4) == 2048 and prefill_tokens(Engine.SGLANG, h100) == 8192
    vllm = gpu_overhead_bytes(shape, Engine.VLLM, 1, 256, Precision.BF16, l4)
    sglang = gpu_overhead_bytes(shape, Engine.SGLANG, 1, 256, Precision.BF16, l4)
    assert sglang - vllm == GIB // 2  # the larger CUDA-graph reserve, same activation step on an L4


def test_estimate_is_independent_of_a_requested_16_bit_precision_on_cpu() -> None:
    bf16 = replace(request(), precision=Precision.BF16)
    assert estimate_encoder(bf16, cpu=True) == estimate_encoder(request(), cpu=True)
