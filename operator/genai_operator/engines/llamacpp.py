"""llama.cpp's HTTP server (`llama-server`), serving GGUF files on CPU or GPU.

Images, pinned to one release (b9660) of ghcr.io/ggml-org/llama.cpp:
- `server-b9660`: CPU build, multi-arch (linux/amd64, linux/arm64, linux/s390x): the edge default;
- `server-cuda-b9660`: CUDA 12 build for linux/amd64 and linux/arm64 (SBSA, i.e. Grace servers);
- `server-rocm-b9660`: ROCm build, linux/amd64 only (the pod is pinned to amd64 nodes).
Jetson (L4T) devices need a Jetson build of llama.cpp; set it in the pool's engineDefaults.image.

Flags, checked against the llama-server README:
- `--model PATH`: the model-loader init container fetched the GGUF file (the one the URI names, or the
  one of the chosen quantization type, all parts when split) and linked it as model.gguf in the cache
  directory; mounted files (pvc://, file://, oci://) are loaded where they are;
- `--ctx-size` is the KV cache of all slots together, so it is maxContextLength x slots with `--parallel`
  slots, each getting maxContextLength tokens; slots are maxConcurrentSequences, or (Auto) as many as the
  memory holds up to 4 (sizing/concurrency.py);
- `--metrics` enables /metrics; `--alias` is the model name the OpenAI API reports;
- a GPU replica offloads every layer (`--n-gpu-layers 999`); a CPU replica runs as many threads as cores
  it requested (llama.cpp would otherwise count the node's cores and oversubscribe);
- KV cache FP8 maps to llama.cpp's 8-bit cache types (q8_0); a quantized V cache needs flash attention.

Restricted Pod Security: yes. The image runs as root by default but only writes its download cache
(LLAMA_CACHE, on the cache volume). /health answers 503 while the model loads and 200 once ready.
"""

from __future__ import annotations

from dataclasses import dataclass

from genai_operator.api.enums import Engine
from genai_operator.engines.base import (
    CACHE_DIR,
    EngineContext,
    EngineMetrics,
    EnginePlan,
    choose_image,
    common_env,
    http_probe,
    writable_volumes,
)
from genai_operator.engines.fetch import ModelFiles, fetched_bytes, node_disk_bytes, plan_model_files
from genai_operator.engines.resources import (
    STARTUP_PERIOD_SECONDS,
    cpu_threads,
    fetch_seconds,
    resources,
    startup_seconds,
)
from genai_operator.engines.source import UnsupportedModelSourceError

RELEASE = "b9660"
IMAGE_CPU = f"ghcr.io/ggml-org/llama.cpp:server-{RELEASE}"
IMAGE_CUDA = f"ghcr.io/ggml-org/llama.cpp:server-cuda-{RELEASE}"
IMAGE_ROCM = f"ghcr.io/ggml-org/llama.cpp:server-rocm-{RELEASE}"
INIT_SECONDS = 30
ALL_LAYERS = "999"
METRICS = EngineMetrics(
    queue_depth="llamacpp:requests_deferred",
    running_requests="llamacpp:requests_processing",
    kv_cache_usage="llamacpp:kv_cache_usage_ratio",
)


def default_image(ctx: EngineContext) -> tuple[str, str | None]:
    """(image, the only architecture it exists for, or None when multi-arch)."""
    if ctx.gpu is None:
        return IMAGE_CPU, None
    if ctx.gpu.vendor == "amd":
        return IMAGE_ROCM, "amd64"
    return IMAGE_CUDA, None


def llamacpp_args(ctx: EngineContext, files: ModelFiles) -> list[str]:
    serving = ctx.spec.serving
    sequences = ctx.sequences
    args = [
        "--model",
        files.model_path,
        "--host",
        "0.0.0.0",
        "--port",
        str(serving.port),
        "--alias",
        ctx.name,
        "--ctx-size",
        str(ctx.max_context * sequences),
        "--parallel",
        str(sequences),
        "--metrics",
    ]
    if ctx.gpu is not None:
        args += ["--n-gpu-layers", ALL_LAYERS]
    else:
        args += ["--threads", str(cpu_threads(ctx))]
    if ctx.kv_fp8:
        args += ["--cache-type-k", "q8_0", "--cache-type-v", "q8_0", "--flash-attn", "on"]
    return args + list(serving.extra_args)


@dataclass(frozen=True)
class LlamaCppEngine:
    engine: Engine = Engine.LLAMA_CPP
    label: str = "llama-cpp"
    metrics: EngineMetrics = METRICS

    def plan(self, ctx: EngineContext) -> EnginePlan:
        if ctx.spec.adapters:
            raise UnsupportedModelSourceError(
                f"{ctx.name}: spec.adapters are served by vLLM, but pool {ctx.pool.name} runs llama.cpp: set "
                "engine VLLM (on GPU pools) or remove the adapters"
            )
        files = plan_model_files(ctx, gguf=True)
        args = llamacpp_args(ctx, files)
        volumes, mounts = writable_volumes(None)  # no NCCL: the default 64 MiB /dev/shm is enough
        budget = startup_seconds(ctx, init_seconds=INIT_SECONDS)
        image, arch = default_image(ctx)
        chosen = choose_image(ctx, image)
        return EnginePlan(
            image=chosen,
            args=tuple(args),
            port=ctx.spec.serving.port,
            env=tuple(common_env({"LLAMA_CACHE": f"{CACHE_DIR}/llama.cpp"})),
            env_from=(),
            volumes=tuple(volumes) + files.volumes,
            mounts=tuple(mounts) + files.mounts,
            resources=resources(ctx, shm=0, disk_bytes=node_disk_bytes(ctx, files)),
            startup_probe=http_probe(
                "/health", period=STARTUP_PERIOD_SECONDS, timeout=5, failures=budget // STARTUP_PERIOD_SECONDS
            ),
            readiness_probe=http_probe("/health", period=10, timeout=5, failures=3),
            liveness_probe=http_probe("/health", period=30, timeout=10, failures=5),
            startup_seconds=budget,
            node_arch=arch if chosen == image else None,
            image_pull_secrets=files.image_pull_secrets,
            init_containers=(files.init_container,),
            fetch_seconds=fetch_seconds(fetched_bytes(ctx, fetched=files.fetched)),
        )
