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

from dataclasses import dataclass

from genai_operator.api.enums import Engine, Precision, QuantMethod
from genai_operator.engines.base import (
    CACHE_DIR,
    EngineContext,
    EngineMetrics,
    EnginePlan,
    choose_image,
    common_env,
    http_probe,
    memory_fraction,
    writable_volumes,
)
from genai_operator.engines.fetch import ModelFiles, fetched_bytes, node_disk_bytes, plan_model_files
from genai_operator.engines.resources import (
    STARTUP_PERIOD_SECONDS,
    fetch_seconds,
    resources,
    shm_gib,
    startup_seconds,
)
from genai_operator.engines.source import UnsupportedModelSourceError

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
    serving = ctx.spec.serving
    args = ["--model-id", files.model_path]
    args += [
        "--port",
        str(serving.port),
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
    return args + list(serving.extra_args)


@dataclass(frozen=True)
class TgiEngine:
    engine: Engine = Engine.TGI
    label: str = "tgi"
    metrics: EngineMetrics = METRICS

    def plan(self, ctx: EngineContext) -> EnginePlan:
        if ctx.spec.adapters:
            raise UnsupportedModelSourceError(
                f"{ctx.name}: spec.adapters are served by vLLM, but pool {ctx.pool.name} runs TGI: set engine "
                "VLLM or remove the adapters"
            )
        files = plan_model_files(ctx, gguf=False)
        if files.location.file:
            raise UnsupportedModelSourceError(
                f"{ctx.name}: TGI loads a whole repository or directory; write hf://{files.location.repo} "
                "without a file path"
            )
        shm = shm_gib(ctx.tensor_parallel)
        volumes, mounts = writable_volumes(shm)
        budget = startup_seconds(ctx, init_seconds=INIT_SECONDS)
        chosen = choose_image(ctx, IMAGE)
        cache = {"HUGGINGFACE_HUB_CACHE": f"{CACHE_DIR}/huggingface/hub", "USAGE_STATS": "off"}
        return EnginePlan(
            image=chosen,
            args=tuple(tgi_args(ctx, files)),
            port=ctx.spec.serving.port,
            env=tuple(common_env(cache)),
            env_from=(),
            volumes=tuple(volumes) + files.volumes,
            mounts=tuple(mounts) + files.mounts,
            resources=resources(ctx, shm=shm, disk_bytes=node_disk_bytes(ctx, files)),
            startup_probe=http_probe(
                "/health", period=STARTUP_PERIOD_SECONDS, timeout=5, failures=budget // STARTUP_PERIOD_SECONDS
            ),
            readiness_probe=http_probe("/health", period=10, timeout=5, failures=3),
            liveness_probe=http_probe("/health", period=30, timeout=10, failures=5),
            startup_seconds=budget,
            image_pull_secrets=files.image_pull_secrets,
            node_arch=IMAGE_ARCH if chosen == IMAGE else None,
            init_containers=(files.init_container,),
            fetch_seconds=fetch_seconds(fetched_bytes(ctx, fetched=files.fetched)),
        )
