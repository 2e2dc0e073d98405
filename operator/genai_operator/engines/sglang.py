"""SGLang's OpenAI-compatible server (`python3 -m sglang.launch_server`).

Image: lmsysorg/sglang:v0.5.19-cu129, the last release SGLang publishes for CUDA 12 (later images ship
CUDA 13 only and need an NVIDIA driver >= 580; set one through Settings.images or the pool's
engineDefaults.image where the nodes have it). Pinned to amd64 nodes: Grace and Jetson need their own builds.

Flags, checked against SGLang's server-arguments reference:
- `--model-path` (the local checkpoint), `--served-model-name`, `--host 0.0.0.0 --port`;
- `--tp-size` is the tensor-parallel size sizing chose; `--context-length` is maxContextLength;
- `--max-running-requests` is the batch cap (maxConcurrentSequences, or 256 like vLLM's --max-num-seqs when
  Auto: concurrency then follows the KV pool);
- `--mem-fraction-static` is the share of each GPU for weights and the KV pool; activations and CUDA graphs
  use the rest. It is derived from sizing: gpuMemoryUtilizationPercent of the device less the overhead
  sizing counted per GPU (sizing/overhead.py), so SGLang reserves what we sized;
- `--quantization`: awq_marlin / gptq_marlin on Ampere or newer (awq / gptq before), bitsandbytes, fp8 (an
  FP8 checkpoint or on-the-fly from 16 bit); INT8 without a method uses fp8 on GPUs with FP8 support and
  bitsandbytes elsewhere, INT4 without a method bitsandbytes (as for vLLM);
- `--kv-cache-dtype fp8_e4m3` for an FP8 KV cache; `--enable-metrics` for /metrics;
- LoRA: `--enable-lora --lora-paths name=path ... --max-lora-rank --max-loras-per-batch`.

Probes: /health answers 200 once the server has loaded the model and run its warm-up request (503 before);
/health_generate runs a real generation and is too heavy for a liveness probe. Metrics on /metrics of the API
port, labelled model_name: `sglang:num_queue_reqs`, `sglang:num_running_reqs`, `sglang:token_usage` (a 0..1
share of the KV pool). Restricted Pod Security: yes; it writes ~/.cache (FlashInfer and Triton JIT caches)
and /tmp, both writable volumes.
"""

from __future__ import annotations

from genai_operator.api.enums import Engine
from genai_operator.engines.assembly import AssembledEngine, EngineChoices, refuse_single_file
from genai_operator.engines.base import EngineContext, EngineMetrics
from genai_operator.engines.fetch import ModelFiles, plan_model_files
from genai_operator.engines.resources import shm_gib
from genai_operator.engines.source import UnsupportedModelSourceError
from genai_operator.engines.torch_flags import dtype_flag, quantization_flag
from genai_operator.sizing.lora import lora_slots
from genai_operator.sizing.overhead import gpu_budget_bytes

IMAGE = "lmsysorg/sglang:v0.5.19-cu129"
IMAGE_ARCH = "amd64"
INIT_SECONDS = 300  # CUDA-graph capture, FlashInfer JIT on first start, the warm-up request
MIN_STATIC_FRACTION = 0.3  # below this SGLang's KV pool is too small to be worth the GPU
METRICS = EngineMetrics(
    queue_depth="sglang:num_queue_reqs",
    running_requests="sglang:num_running_reqs",
    kv_cache_usage="sglang:token_usage",
    model_label="model_name",
)


def static_fraction(ctx: EngineContext) -> str:
    """--mem-fraction-static: the per-GPU budget less the overhead sizing counted, over the device's memory."""
    gpu = ctx.gpu
    if gpu is None:
        return f"{ctx.spec.serving.gpu_memory_utilization_percent / 100:.2f}"
    budget = gpu_budget_bytes(gpu, Engine.SGLANG, ctx.spec.serving.gpu_memory_utilization_percent)
    overhead = ctx.sizing.estimate.overhead_bytes // max(1, ctx.gpus)
    fraction = max(MIN_STATIC_FRACTION, (budget - overhead) / gpu.usable_bytes)
    return f"{int(fraction * 100) / 100:.2f}"  # rounded down: never more than sized


def sglang_args(ctx: EngineContext, files: ModelFiles) -> list[str]:
    serving = ctx.spec.serving
    args = [
        "--model-path",
        files.model_path,
        "--served-model-name",
        ctx.name,
        "--host",
        "0.0.0.0",
        "--port",
        str(serving.port),
        "--context-length",
        str(ctx.max_context),
        "--max-running-requests",
        str(ctx.sequences),
        "--mem-fraction-static",
        static_fraction(ctx),
        "--enable-metrics",
    ]
    if ctx.tensor_parallel > 1:
        args += ["--tp-size", str(ctx.tensor_parallel)]
    dtype = dtype_flag(ctx)
    if dtype:
        args += ["--dtype", dtype]
    quantization = quantization_flag(ctx, int8_as_fp8=ctx.gpu is not None and ctx.gpu.supports_fp8)
    if quantization:
        args += ["--quantization", quantization]
    if ctx.kv_fp8:
        args += ["--kv-cache-dtype", "fp8_e4m3"]
    return args + lora_args(ctx, files)


def lora_args(ctx: EngineContext, files: ModelFiles) -> list[str]:
    if not files.adapters:
        return []
    args = [
        "--enable-lora",
        "--max-lora-rank",
        str(ctx.spec.serving.max_lora_rank),
        "--max-loras-per-batch",
        str(lora_slots(len(files.adapters))),
        "--lora-paths",
    ]
    return args + [f"{name}={path}" for name, path in files.adapters]


def sglang_choices(ctx: EngineContext) -> EngineChoices:
    if ctx.gpu is None:
        raise UnsupportedModelSourceError(
            f"{ctx.name}: SGLang needs GPUs and pool {ctx.pool.name} has none: set engine Auto or LlamaCpp"
        )
    files = plan_model_files(ctx, gguf=False)
    refuse_single_file(ctx, files, loads="SGLang loads whole repositories")
    return EngineChoices(
        files=files,
        default_image=IMAGE,
        default_image_arch=IMAGE_ARCH,
        command=("python3", "-m", "sglang.launch_server"),
        args=sglang_args(ctx, files),
        cache_env={},  # FlashInfer, Triton and torch caches are home-relative or under /tmp: both writable
        init_seconds=INIT_SECONDS,
        shm_gib=shm_gib(ctx.tensor_parallel),
    )


SGLANG_PROFILE = AssembledEngine(engine=Engine.SGLANG, label="sglang", metrics=METRICS, choose=sglang_choices)
