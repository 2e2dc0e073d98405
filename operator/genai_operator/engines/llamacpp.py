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

from genai_operator.api.enums import Engine
from genai_operator.engines.assembly import AssembledEngine, EngineChoices, refuse_adapters
from genai_operator.engines.base import CACHE_DIR, EngineContext, EngineMetrics
from genai_operator.engines.fetch import ModelFiles, plan_model_files
from genai_operator.engines.resources import cpu_threads

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
    sequences = ctx.sequences
    args = [
        "--model",
        files.model_path,
        "--host",
        "0.0.0.0",
        "--port",
        str(ctx.spec.serving.port),
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
    return args


def llamacpp_choices(ctx: EngineContext) -> EngineChoices:
    refuse_adapters(ctx, "llama.cpp", remedy="set engine VLLM (on GPU pools)")
    files = plan_model_files(ctx, gguf=True)
    image, arch = default_image(ctx)
    return EngineChoices(
        files=files,
        default_image=image,
        default_image_arch=arch,
        args=llamacpp_args(ctx, files),
        cache_env={"LLAMA_CACHE": f"{CACHE_DIR}/llama.cpp"},
        init_seconds=INIT_SECONDS,
        shm_gib=0,  # no NCCL: the default 64 MiB /dev/shm is enough
    )


LLAMA_CPP_PROFILE = AssembledEngine(
    engine=Engine.LLAMA_CPP, label="llama-cpp", metrics=METRICS, choose=llamacpp_choices
)
