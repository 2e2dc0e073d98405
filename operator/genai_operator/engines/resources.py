"""Per-replica resources and the startup budget, derived from sizing; spec.resources.cpu/memory override.

GPU replicas: the accelerators hold weights and KV cache, so host memory covers the engine processes,
tokenizers, pinned buffers and /dev/shm (8 GiB + 4 GiB per GPU + shm). On unified-memory devices (Jetson)
the "GPU memory" is host memory, so the whole per-replica estimate is added. CPU replicas (llama.cpp)
hold everything in host memory: the request is the full estimate plus 1 GiB.

No CPU limit: throttling a token generator only adds latency, while the request already reserves cores.
Memory limit above the request: safetensors and GGUF files are mmap'd, and page cache counts against the
limit while loading.
"""

from __future__ import annotations

import math
from typing import Any

from genai_operator.api.enums import Engine, Precision, QuantMethod
from genai_operator.engines.base import EngineContext
from genai_operator.engines.sleep_mode import standby_memory_bytes
from genai_operator.formats.quantity import GIB, gi_quantity, whole_cores
from genai_operator.sizing.lora import lora_slots

# Conservative throughputs: a cold Hugging Face download through cluster egress, and disk to accelerator.
DOWNLOAD_BYTES_PER_SECOND = 25_000_000
LOAD_BYTES_PER_SECOND = 250_000_000
MIN_STARTUP_SECONDS = 300
MAX_STARTUP_SECONDS = 3 * 3600  # past this a stuck download is restarted rather than waited on
STARTUP_PERIOD_SECONDS = 10
CACHE_HEADROOM = 2 * GIB  # compile caches (torch.compile, Triton), tokenizer files


def checkpoint_bytes(ctx: EngineContext, *, quantizes_at_load: bool) -> int:
    """Bytes on disk: the weights, or the 16-bit checkpoint for methods that quantize while loading."""
    estimate = ctx.sizing.estimate
    at_load = ctx.method in (QuantMethod.BITS_AND_BYTES, QuantMethod.FP8) or (
        ctx.method == QuantMethod.NONE and ctx.precision in (Precision.FP8, Precision.INT8, Precision.INT4)
    )
    if quantizes_at_load and at_load and estimate.bits_per_weight > 0:
        parameters = estimate.weights_bytes * 8 / estimate.bits_per_weight
        return max(estimate.weights_bytes, int(parameters * 2))
    return estimate.weights_bytes


def startup_seconds(ctx: EngineContext, *, init_seconds: int, streamed_bytes: int = 0) -> int:
    """How long the engine may take to become healthy once its files are local: load and warm-up, by size.

    The download happens before, in the model-loader init container, which has no probe (its own retries
    and errors bound it); the Deployment's progress deadline adds `fetch_seconds` for it. Weights the engine
    streams from their bucket (`streamed_bytes`) arrive while it loads, so their cold download is counted here.
    """
    seconds = init_seconds + ctx.sizing.estimate.weights_bytes / LOAD_BYTES_PER_SECOND
    seconds += streamed_bytes / DOWNLOAD_BYTES_PER_SECOND
    budget = min(max(math.ceil(seconds), MIN_STARTUP_SECONDS), MAX_STARTUP_SECONDS)
    return math.ceil(budget / STARTUP_PERIOD_SECONDS) * STARTUP_PERIOD_SECONDS


def fetch_seconds(fetched_bytes: int) -> int:
    """A cold download at a conservative egress rate (a cache hit takes seconds)."""
    return math.ceil(fetched_bytes / DOWNLOAD_BYTES_PER_SECOND)


def adapter_disk_bytes(ctx: EngineContext) -> int:
    """LoRA adapter files: about one reserved slot each (the A and B matrices at the maximum rank)."""
    adapters = len(ctx.spec.adapters)
    if not adapters or not ctx.sizing.estimate.lora_bytes:
        return 0
    return ctx.sizing.estimate.lora_bytes // lora_slots(adapters) * adapters


def shm_gib(tensor_parallel: int) -> int:
    """/dev/shm for PyTorch IPC and NCCL: 2 GiB alone, 4 GiB per tensor-parallel rank (up to 16 GiB)."""
    return 2 if tensor_parallel <= 1 else min(16, 4 * tensor_parallel)


def cpu_request(ctx: EngineContext) -> str:
    if ctx.spec.resources.cpu:
        return ctx.spec.resources.cpu
    if ctx.gpu is not None:
        return str(2 + 2 * ctx.gpus)  # API server, scheduler and one worker per GPU
    if ctx.assignment.engine == Engine.TEI:
        # An encoder pass over one batch is short, and no CPU limit is set, so it bursts into idle cores; one
        # core reserved lets a store's single amd64 node host the embedding and reranking models beside the chat.
        return "1"
    return "4" if ctx.sizing.estimate.weights_bytes < 4 * GIB else "8"


def cpu_threads(ctx: EngineContext) -> int:
    return whole_cores(cpu_request(ctx))


def resources(ctx: EngineContext, *, shm: int, disk_bytes: int) -> dict[str, Any]:
    """requests/limits of the serving container."""
    estimate = ctx.sizing.estimate
    if ctx.gpu is not None and ctx.assignment.engine == Engine.TEI:
        # TEI is one Rust process with no Python workers: the checkpoint (often stored in float32, twice
        # what the GPU holds) passes through host memory while loading, plus the router and tokenizers.
        memory = 2 * estimate.weights_bytes + 2 * GIB
        limit = 2 * memory
    elif ctx.gpu is not None:
        memory = 8 * GIB + 4 * GIB * ctx.gpus + shm * GIB + standby_memory_bytes(ctx)  # asleep: weights in RAM
        if ctx.gpu.unified_memory:
            memory += estimate.total_bytes
        limit = 2 * memory
    else:
        memory = estimate.total_bytes + GIB + shm * GIB
        limit = math.ceil(memory * 1.25)
    requests: dict[str, Any] = {"cpu": cpu_request(ctx), "memory": ctx.spec.resources.memory or gi_quantity(memory)}
    limits: dict[str, Any] = {"memory": ctx.spec.resources.memory or gi_quantity(limit)}
    requests["ephemeral-storage"] = gi_quantity(disk_bytes + CACHE_HEADROOM)
    if ctx.gpu is not None:
        requests[ctx.gpu_resource] = str(ctx.gpus)
        limits[ctx.gpu_resource] = str(ctx.gpus)
    return {"requests": requests, "limits": limits}
