"""Per-replica memory: weights + KV cache + engine overhead, for one precision and GPU count."""

from __future__ import annotations

from dataclasses import replace

from genai_operator.api.enums import Engine, KvCacheDtype, Precision
from genai_operator.sizing.concurrency import batch_sequences, required_kv_bytes
from genai_operator.sizing.lora import lora_bytes
from genai_operator.sizing.model_shapes import shape_from_parameters
from genai_operator.sizing.overhead import cpu_overhead_bytes, gpu_overhead_bytes, prefill_tokens
from genai_operator.sizing.quantization import weight_format
from genai_operator.sizing.types import GpuType, MemoryEstimate, ModelShape, SizingRequest
from genai_operator.sizing.units import ceil_div

# llama.cpp has no FP8 cache type; `kvCache: FP8` maps to its q8_0 cache: 34 bytes per 32 values.
_Q8_0_BYTES, _Q8_0_VALUES = 34, 32


def resolve_engine(engine: Engine, *, cpu: bool = False) -> Engine:
    """Engine Auto as DESIGN.md §2 resolves it: vLLM on GPUs, llama.cpp on CPU nodes."""
    if engine is not Engine.AUTO:
        return engine
    return Engine.LLAMA_CPP if cpu else Engine.VLLM


def model_shape(request: SizingRequest) -> ModelShape:
    return request.shape if request.shape is not None else shape_from_parameters(request.parameters)


def splits_heads(engine: Engine) -> bool:
    """vLLM and TGI shard attention heads across GPUs; llama.cpp splits whole layers instead."""
    return engine is not Engine.LLAMA_CPP


def kv_heads_held(shape: ModelShape, tensor_parallel: int) -> int:
    """KV heads stored across one replica: vLLM replicates them when TP exceeds the KV head count
    (each rank keeps at least one), so Llama-3.1-8B at TP 16 would store 16 heads, not 8."""
    return max(1, shape.kv_heads // tensor_parallel) * tensor_parallel


def kv_bytes_per_token(
    shape: ModelShape, kv_cache: KvCacheDtype, precision: Precision, engine: Engine, tensor_parallel: int = 1
) -> int:
    """2 (K and V) x layers x KV heads x head_dim x bytes per value, over the whole replica.

    Auto means the model's activation dtype: 2 bytes (FP16/BF16, also for quantized checkpoints,
    whose activations are 16 bit), 4 for FP32. vLLM keeps Auto at the model dtype even with FP8
    weights; FP8 KV cache is opt-in (`kvCache: FP8`). llama.cpp caches f16 unless told otherwise.
    """
    heads = kv_heads_held(shape, tensor_parallel) if splits_heads(engine) else shape.kv_heads
    values = 2 * shape.layers * heads * shape.head_dim
    if kv_cache is KvCacheDtype.FP8:
        if engine is Engine.LLAMA_CPP:
            return ceil_div(values * _Q8_0_BYTES, _Q8_0_VALUES)
        return values
    if kv_cache is KvCacheDtype.AUTO and precision is Precision.FP32 and engine is not Engine.LLAMA_CPP:
        return values * 4
    return values * 2


def _estimate(
    request: SizingRequest, precision: Precision, devices: int, gpu: GpuType | None, *, cpu: bool, stages: int = 1
) -> MemoryEstimate:
    if request.parameters <= 0:
        raise ValueError(f"parameter count must be positive, got {request.parameters}")
    if devices < 1:
        raise ValueError(f"a replica spans at least one GPU, got {devices}")
    engine = resolve_engine(request.engine, cpu=cpu)
    shape = model_shape(request)
    fmt = weight_format(precision, request.method, request.gguf_type, engine, shape.hidden_size)
    weights = fmt.weights_bytes(shape, request.parameters)
    per_token = kv_bytes_per_token(shape, request.kv_cache, fmt.precision, engine)
    # Pipeline stages hold disjoint layers: KV heads are replicated only across the tensor-parallel ranks.
    held_per_token = kv_bytes_per_token(shape, request.kv_cache, fmt.precision, engine, max(1, devices // stages))
    prefill = prefill_tokens(engine, gpu, request.max_context)
    kv_cache = required_kv_bytes(engine, request.max_sequences, request.max_context, held_per_token, weights, prefill)
    if cpu:
        overhead = cpu_overhead_bytes(shape)
    else:
        sequences = batch_sequences(engine, request.max_sequences)
        overhead = devices * gpu_overhead_bytes(
            shape, engine, devices, sequences, fmt.precision, gpu, request.max_context
        )
    adapters = 0
    if engine in (Engine.VLLM, Engine.SGLANG) and not cpu:
        adapters = lora_bytes(shape, request.parameters, adapters=request.lora_adapters, rank=request.lora_rank)
    return MemoryEstimate(
        precision=fmt.precision,
        method=fmt.method,
        bits_per_weight=round(weights * 8 / request.parameters, 3),
        weights_bytes=weights,
        kv_cache_bytes=kv_cache,
        kv_bytes_per_token=per_token,
        kv_held_bytes_per_token=held_per_token,
        overhead_bytes=overhead,
        total_bytes=weights + kv_cache + overhead + adapters,
        gguf_type=fmt.gguf_type,
        lora_bytes=adapters,
    )


def estimate_memory(
    request: SizingRequest,
    precision: Precision,
    tensor_parallel: int = 1,
    gpu: GpuType | None = None,
    *,
    stages: int = 1,
) -> MemoryEstimate:
    """Memory of one replica at `precision` spread over `tensor_parallel` GPUs (for llama.cpp: the
    number of GPUs it splits layers across). `gpu` refines vLLM's activation batch (see overhead).
    With `stages` pipeline-parallel stages (a multi-node replica), `tensor_parallel` counts all GPUs
    of the replica, `tensor_parallel // stages` per stage.

    Raises ValueError for precision Auto and QuantizationError (a ValueError) for combinations no
    engine serves, such as AWQ at BF16.
    """
    return _estimate(request, precision, tensor_parallel, gpu, cpu=False, stages=stages)


def estimate_cpu_memory(request: SizingRequest, precision: Precision) -> MemoryEstimate:
    """Memory of one llama.cpp replica on a CPU-only node (weights mmap'd into RAM)."""
    return _estimate(replace(request, engine=Engine.LLAMA_CPP), precision, 1, None, cpu=True)


def per_device_bytes(estimate: MemoryEstimate, devices: int) -> int:
    """What each GPU of a replica holds: weights, KV cache and overhead all split evenly."""
    return ceil_div(estimate.total_bytes, devices)
