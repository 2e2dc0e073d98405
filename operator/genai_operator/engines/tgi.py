"""Hugging Face Text Generation Inference (`text-generation-launcher`).

Image: ghcr.io/huggingface/text-generation-inference:3.3.6, linux/amd64 only, so pods are pinned to amd64
nodes unless the image is overridden. TGI is in maintenance mode upstream; it stays supported here for
clusters that standardised on it.

Flags, checked against the launcher reference:
- `--quantize` values: awq, gptq (Marlin kernels are picked automatically), bitsandbytes (8 bit),
  bitsandbytes-nf4 (4 bit), fp8, eetq (8 bit, any model, faster than bitsandbytes); `--dtype` cannot be
  combined with `--quantize` and only takes float16/bfloat16;
- `--max-input-tokens` must stay below `--max-total-tokens` (the per-request budget), and
  `--max-batch-prefill-tokens` must cover `--max-input-tokens`: it is maxContextLength, which sizing
  counts as the activation peak of TGI's warm-up; TGI gives the memory left to its KV cache;
- `--max-concurrent-requests` is an admission cap, not the batch size: it is set to 8x the sequences so
  requests queue (and tgi_queue_size can drive the autoscaler) before TGI answers 429 (Auto: 128, TGI's default);
- `--cuda-memory-fraction` is the counterpart of vLLM's --gpu-memory-utilization; `--num-shard` is the
  tensor-parallel size; the KV cache in FP8 is `--kv-cache-dtype fp8_e4m3fn`.

Restricted Pod Security: yes, with the image's /data cache moved to the cache volume
(HUGGINGFACE_HUB_CACHE) and /tmp writable for the shards' unix sockets. No KV-cache usage metric is
exported, so KVCacheUsage autoscaling is not available on TGI.
"""

from __future__ import annotations

from genai_operator.api.enums import Engine, Precision, QuantMethod
from genai_operator.engines.assembly import AssembledEngine, EngineChoices, refuse_adapters, refuse_single_file
from genai_operator.engines.base import CACHE_DIR, EngineContext, EngineMetrics, memory_fraction
from genai_operator.engines.fetch import ModelFiles, plan_model_files
from genai_operator.engines.resources import shm_gib

IMAGE = "ghcr.io/huggingface/text-generation-inference:3.3.6"
IMAGE_ARCH = "amd64"
INIT_SECONDS = 180  # shard start-up, warm-up and CUDA graphs
QUEUE_FACTOR = 8
METRICS = EngineMetrics(
    queue_depth="tgi_queue_size",
    running_requests="tgi_batch_current_size",
    kv_cache_usage=None,
)


def quantize_flag(ctx: EngineContext) -> str | None:
    method, precision = ctx.method, ctx.precision
    if method == QuantMethod.AWQ:
        return "awq"
    if method == QuantMethod.GPTQ:
        return "gptq"
    if method == QuantMethod.BITS_AND_BYTES:
        return "bitsandbytes" if precision == Precision.INT8 else "bitsandbytes-nf4"
    if method == QuantMethod.FP8 or precision == Precision.FP8:
        return "fp8"
    if precision == Precision.INT8:
        return "eetq"
    if precision == Precision.INT4:
        return "bitsandbytes-nf4"
    return None


def dtype_flag(ctx: EngineContext) -> str | None:
    if ctx.precision == Precision.BF16:
        return "bfloat16" if ctx.supports_bf16 else "float16"
    if ctx.precision == Precision.FP16:
        return "float16"
    return None  # FP32 is not offered by TGI: the checkpoint's dtype is used


def tgi_args(ctx: EngineContext, files: ModelFiles) -> list[str]:
    args = ["--model-id", files.model_path]
    args += [
        "--port",
        str(ctx.spec.serving.port),
        "--max-input-tokens",
        str(ctx.max_context - 1),
        "--max-total-tokens",
        str(ctx.max_context),
        # The smallest prefill budget TGI accepts (it must cover --max-input-tokens); sizing counts its activations.
        "--max-batch-prefill-tokens",
        str(ctx.max_context),
        "--max-concurrent-requests",
        str(ctx.sequences * QUEUE_FACTOR),
        "--cuda-memory-fraction",
        memory_fraction(ctx),
    ]
    if ctx.tensor_parallel > 1:
        args += ["--num-shard", str(ctx.tensor_parallel)]
    quantize = quantize_flag(ctx)
    if quantize:
        args += ["--quantize", quantize]
    else:
        dtype = dtype_flag(ctx)
        if dtype:
            args += ["--dtype", dtype]
    if ctx.kv_fp8:
        args += ["--kv-cache-dtype", "fp8_e4m3fn"]
    return args


def tgi_choices(ctx: EngineContext) -> EngineChoices:
    refuse_adapters(ctx, "TGI")
    files = plan_model_files(ctx, gguf=False)
    refuse_single_file(ctx, files, loads="TGI loads a whole repository or directory")
    return EngineChoices(
        files=files,
        default_image=IMAGE,
        default_image_arch=IMAGE_ARCH,
        args=tgi_args(ctx, files),
        cache_env={"HUGGINGFACE_HUB_CACHE": f"{CACHE_DIR}/huggingface/hub", "USAGE_STATS": "off"},
        init_seconds=INIT_SECONDS,
        shm_gib=shm_gib(ctx.tensor_parallel),
    )


TGI_PROFILE = AssembledEngine(engine=Engine.TGI, label="tgi", metrics=METRICS, choose=tgi_choices)
