"""What an engine needs beside weights and KV cache, and how much of a device it lets a replica use.

Figures per GPU (or per CPU process), conservative where the engines vary between releases:

| engine    | counted against the budget                                   | budget                       |
|-----------|---------------------------------------------------------------|------------------------------|
| vLLM      | 0.25 GiB non-torch (cuBLAS workspaces; +0.25 GiB NCCL and     | usable x utilization%, capped |
|           | custom all-reduce buffers when TP > 1), 0.5 GiB CUDA graphs,  | at usable - 0.5 GiB CUDA     |
|           | activation peak of one max_num_batched_tokens step, sampler   | context (outside vLLM's      |
|           |                                                               | share, see below)            |
| TGI       | 0.5 GiB CUDA context + the vLLM items, prefill batch of       | usable - 5%                  |
|           | maxContextLength (`--max-batch-prefill-tokens`)               |                              |
| llama.cpp | 0.5 GiB CUDA context + compute buffer (ubatch 512)            | usable - 0.5 GiB             |
| SGLang    | the vLLM items with 1 GiB of CUDA graphs, activation peak of  | as vLLM                      |
|           | one chunked-prefill step (`--chunked-prefill-size`)           |                              |
| llama.cpp | compute buffer + 0.25 GiB server process                      | memory - max(1 GiB, 10%)     |
| (CPU)     |                                                               |                              |

SGLang splits the device differently: `--mem-fraction-static` of the device holds weights and the KV pool,
and activations and CUDA graphs live in the rest. The engine module derives that fraction from this sizing
(the budget less the overhead counted here, engines/sglang.py), so the same bytes are reserved either way.
SGLang captures CUDA graphs for more batch sizes than vLLM (up to its `cuda_graph_max_bs`), hence 1 GiB.

vLLM takes `gpu_memory_utilization` of the device's total and subtracts what it profiles (weights,
activation peak, non-torch allocations) before handing the rest to the KV cache; it refuses to start
when free memory is below that share, so the CUDA context (created first) must fit in the rest.
vLLM logs e.g. "model weights take 14.99GiB; non_torch_memory takes 0.13GiB; PyTorch activation peak
memory takes 1.23GiB" for Llama-3.1-8B at 8192 batched tokens, and "Graph capturing finished ... took
0.5 GiB"; the activation model below reproduces the 1.2 GiB.
"""

from __future__ import annotations

from genai_operator.api.enums import Engine, Precision
from genai_operator.formats.quantity import GIB, MIB
from genai_operator.sizing.types import GpuType, ModelShape

CUDA_CONTEXT_BYTES = 512 * MIB  # CUDA runtime, lazily loaded kernels, cuBLAS handle
NON_TORCH_BYTES = 256 * MIB
TP_COMMUNICATION_BYTES = 256 * MIB
CUDA_GRAPH_BYTES = 512 * MIB
SGLANG_CUDA_GRAPH_BYTES = 1 * GIB

# Peak activations of a forward pass, in hidden-size values per batched token: ~8 that every tensor
# parallel rank holds in full (residual stream, norms, attention input and output) and ~12 that
# tensor parallelism splits (q/k/v, the SwiGLU gate/up pair at 2 x 3.5 hidden, the activated MLP).
_REPLICATED_VALUES_PER_TOKEN = 8
_SHARDED_VALUES_PER_TOKEN = 12
# The sampler's fp32 logits plus the softmax copy, one row of vocab per running sequence.
_SAMPLER_COPIES = 2

# vLLM's `max_num_batched_tokens` default for the OpenAI server (EngineArgs.get_batch_defaults):
# 8192 on devices with >= 70 GiB other than the A100, 2048 elsewhere.
VLLM_LARGE_BATCHED_TOKENS = 8192
VLLM_SMALL_BATCHED_TOKENS = 2048
# SGLang's `chunked_prefill_size` default grows with the device memory (ServerArgs): 2048 below 35 GiB,
# 4096 below 60 GiB, 8192 beyond (larger steps on the biggest parts are still within this activation model).
SGLANG_PREFILL_STEPS: tuple[tuple[int, int], ...] = ((35 * GIB, 2048), (60 * GIB, 4096))
SGLANG_LARGE_PREFILL_TOKENS = 8192
# TGI's prefill budget when no context length is known; the engine module passes maxContextLength as
# --max-batch-prefill-tokens (the smallest value TGI accepts: it must cover --max-input-tokens).
TGI_PREFILL_TOKENS = 4096
# llama.cpp's default -ub (physical batch): its compute buffer holds one ubatch of logits (f32 vocab
# row per token) and about 32 hidden-size f32 intermediates per token.
LLAMA_CPP_UBATCH = 512
_LLAMA_CPP_HIDDEN_VALUES = 32
LLAMA_CPP_SERVER_BYTES = 256 * MIB  # llama-server's own process: HTTP, tokenizer, slots

TGI_RESERVE_PERCENT = 5  # PyTorch caching-allocator fragmentation; TGI sizes its cache to what is free
LLAMA_CPP_GPU_RESERVE_BYTES = 512 * MIB  # other processes on the GPU (display, DCGM exporter)
CPU_RESERVE_MIN_BYTES = 1 * GIB
CPU_RESERVE_PERCENT = 10  # page cache for the mmap'd weights, sidecars


def vllm_max_batched_tokens(gpu: GpuType | None) -> int:
    """The batch vLLM profiles with on `gpu` (the engines module may pass it explicitly)."""
    if gpu is None:
        return VLLM_LARGE_BATCHED_TOKENS  # unknown device: the larger (more conservative) default
    large = gpu.usable_bytes >= 70 * GIB and "a100" not in gpu.key
    return VLLM_LARGE_BATCHED_TOKENS if large else VLLM_SMALL_BATCHED_TOKENS


def sglang_chunked_prefill_tokens(gpu: GpuType | None) -> int:
    """SGLang's chunked-prefill step on `gpu` (the engines module passes it explicitly)."""
    if gpu is None:
        return SGLANG_LARGE_PREFILL_TOKENS
    return next(
        (tokens for below, tokens in SGLANG_PREFILL_STEPS if gpu.usable_bytes < below), SGLANG_LARGE_PREFILL_TOKENS
    )


def prefill_tokens(engine: Engine, gpu: GpuType | None, max_context: int | None = None) -> int:
    """Tokens the engine batches in one step (its activation peak, and one prefill chunk of KV)."""
    if engine is Engine.SGLANG:
        return sglang_chunked_prefill_tokens(gpu)
    if engine is Engine.LLAMA_CPP:
        return LLAMA_CPP_UBATCH
    if engine is Engine.TGI:
        return max_context or TGI_PREFILL_TOKENS
    return vllm_max_batched_tokens(gpu)


def _activation_bytes(shape: ModelShape, tokens: int, shards: int, max_sequences: int, precision: Precision) -> int:
    value_bytes = 4 if precision is Precision.FP32 else 2
    per_token = (_REPLICATED_VALUES_PER_TOKEN + _SHARDED_VALUES_PER_TOKEN / shards) * shape.hidden_size
    sampler = max_sequences * shape.vocab_size * 4 * _SAMPLER_COPIES
    return int(tokens * per_token * value_bytes) + sampler


def llama_cpp_compute_bytes(shape: ModelShape) -> int:
    return LLAMA_CPP_UBATCH * (shape.vocab_size + _LLAMA_CPP_HIDDEN_VALUES * shape.hidden_size) * 4


def gpu_overhead_bytes(
    shape: ModelShape,
    engine: Engine,
    devices: int,
    max_sequences: int,
    precision: Precision,
    gpu: GpuType | None = None,
    max_context: int | None = None,
) -> int:
    """Runtime memory on each of `devices` GPUs of one replica, beyond its share of weights and KV."""
    if engine is Engine.LLAMA_CPP:
        return CUDA_CONTEXT_BYTES + llama_cpp_compute_bytes(shape)
    tokens = prefill_tokens(engine, gpu, max_context)
    graphs = SGLANG_CUDA_GRAPH_BYTES if engine is Engine.SGLANG else CUDA_GRAPH_BYTES
    fixed = NON_TORCH_BYTES + graphs + (TP_COMMUNICATION_BYTES if devices > 1 else 0)
    if engine is Engine.TGI:
        fixed += CUDA_CONTEXT_BYTES  # TGI's budget is the whole device, so the context counts here
    return fixed + _activation_bytes(shape, tokens, devices, max_sequences, precision)


def cpu_overhead_bytes(shape: ModelShape) -> int:
    return LLAMA_CPP_SERVER_BYTES + llama_cpp_compute_bytes(shape)


def gpu_budget_bytes(gpu: GpuType, engine: Engine, gpu_memory_utilization_percent: int = 90) -> int:
    """Bytes one replica may use on each GPU of `gpu`'s type."""
    usable = gpu.usable_bytes
    if engine is Engine.LLAMA_CPP:
        return usable - LLAMA_CPP_GPU_RESERVE_BYTES
    if engine is Engine.TGI:
        return usable * (100 - TGI_RESERVE_PERCENT) // 100
    return min(usable * gpu_memory_utilization_percent // 100, usable - CUDA_CONTEXT_BYTES)


def cpu_budget_bytes(memory_bytes: int) -> int:
    """Bytes a llama.cpp replica may use on a node with `memory_bytes` allocatable memory."""
    reserve = max(CPU_RESERVE_MIN_BYTES, memory_bytes * CPU_RESERVE_PERCENT // 100)
    return max(0, memory_bytes - reserve)
