"""vLLM's OpenAI-compatible server (`vllm serve`).

Image: vllm/vllm-openai:v0.30.0, a multi-arch index (linux/amd64 and linux/arm64 for Grace-class
servers) built on CUDA 13, so nodes need an NVIDIA driver >= 580; the `-cu129` tag of the same release
serves older drivers (set it through Settings.images or the pool's engineDefaults.image). It is not a
Jetson (L4T) build and has no AMD variant; those pools need an image override.

Flags, checked against the vLLM CLI reference:
- the model is the positional argument of `vllm serve` (the `--model` option is deprecated there);
- AWQ/GPTQ checkpoints get the Marlin kernels (`awq_marlin`, `gptq_marlin`) on Ampere or newer: passing
  plain `awq`/`gptq` forces the slow kernels (vLLM logs "you specified quantization=awq explicitly, so
  forcing awq"); Turing-class GPUs keep the plain ones;
- FP8 weights (a FP8 checkpoint or on-the-fly from 16 bit) use `fp8`, which falls back to FP8-Marlin
  weight-only kernels on GPUs without native FP8;
- vLLM has no load-time INT8 for dense models: INT8 without a method uses `fp8` (8-bit weights) on Ampere+
  and `bitsandbytes` (4-bit, smaller than sized) before that; INT4 without a method uses `bitsandbytes`.

Restricted Pod Security: yes. The image runs as root by default but only writes ~/.cache (compile and
Hugging Face caches), ~/.config and /tmp; HOME points at the cache volume. Startup, readiness and liveness
on /health (the server listens only once the model is loaded), metrics on /metrics of the API port.
"""

from __future__ import annotations

from genai_operator.api.enums import Engine
from genai_operator.engines.assembly import AssembledEngine, EngineChoices, refuse_single_file
from genai_operator.engines.base import EngineContext, EngineMetrics, memory_fraction
from genai_operator.engines.fetch import ModelFiles, plan_model_files
from genai_operator.engines.resources import shm_gib
from genai_operator.engines.sleep_mode import sleep_mode_args, sleep_mode_env
from genai_operator.engines.streaming import streamed_bytes, streamed_files, streamer_args, streamer_env
from genai_operator.engines.torch_flags import dtype_flag, quantization_flag
from genai_operator.sizing.lora import lora_slots

IMAGE = "vllm/vllm-openai:v0.30.0"
INIT_SECONDS = 300  # torch.compile and CUDA-graph capture on first start
METRICS = EngineMetrics(
    queue_depth="vllm:num_requests_waiting",
    running_requests="vllm:num_requests_running",
    kv_cache_usage="vllm:kv_cache_usage_perc",
    model_label="model_name",
)


def vllm_args(ctx: EngineContext, files: ModelFiles) -> list[str]:
    args = [files.model_path]
    args += [
        "--served-model-name",
        ctx.name,
        "--port",
        str(ctx.spec.serving.port),
        "--max-model-len",
        str(ctx.max_context),
        "--max-num-seqs",
        str(ctx.sequences),
        "--gpu-memory-utilization",
        memory_fraction(ctx),
    ]
    if ctx.tensor_parallel > 1:
        args += ["--tensor-parallel-size", str(ctx.tensor_parallel)]
    dtype = dtype_flag(ctx)
    if dtype:
        args += ["--dtype", dtype]
    quantization = quantization_flag(ctx, int8_as_fp8=ctx.supports_bf16)
    if quantization:
        args += ["--quantization", quantization]
    if ctx.kv_fp8:
        args += ["--kv-cache-dtype", "fp8"]
    return args + lora_args(ctx, files) + sleep_mode_args(ctx)


def lora_args(ctx: EngineContext, files: ModelFiles) -> list[str]:
    """Adapters on the same replicas: GPU slots for the ones batched together, the rest kept in host memory."""
    if not files.adapters:
        return []
    count = len(files.adapters)
    args = [
        "--enable-lora",
        "--max-lora-rank",
        str(ctx.spec.serving.max_lora_rank),
        "--max-loras",
        str(lora_slots(count)),
        "--max-cpu-loras",
        str(count),
        "--lora-modules",
    ]
    return args + [f"{name}={path}" for name, path in files.adapters]


def vllm_choices(ctx: EngineContext) -> EngineChoices:
    streamed = ctx.spec.model.streamed
    files = streamed_files(ctx) if streamed else plan_model_files(ctx, gguf=False)
    refuse_single_file(ctx, files, loads="vLLM loads whole repositories")
    cache_env = {"VLLM_NO_USAGE_STATS": "1", "NUMBA_CACHE_DIR": "/tmp/numba"}
    stream_env, env_from = streamer_env(ctx, files) if streamed else ({}, [])
    return EngineChoices(
        files=files,
        default_image=IMAGE,
        command=("vllm", "serve"),  # the image's entrypoint changed across releases; be explicit
        args=vllm_args(ctx, files) + (streamer_args() if streamed else []),
        cache_env={**cache_env, **stream_env, **sleep_mode_env(ctx)},
        init_seconds=INIT_SECONDS,
        shm_gib=shm_gib(ctx.tensor_parallel),
        env_from=tuple(env_from),
        streamed_bytes=streamed_bytes(ctx, files),
    )


VLLM_PROFILE = AssembledEngine(engine=Engine.VLLM, label="vllm", metrics=METRICS, choose=vllm_choices)
