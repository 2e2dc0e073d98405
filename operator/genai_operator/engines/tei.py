"""Hugging Face Text Embeddings Inference (`text-embeddings-router`): embedding and reranking models.

Images: ghcr.io/huggingface/text-embeddings-inference, release 1.8, one image per device class because each
CUDA build targets one compute capability: `cpu-1.8` (CPU pools), `turing-1.8` (T4), `1.8` (A100, sm_80),
`86-1.8` (A10G, sm_86), `89-1.8` (L4, L40S), `hopper-1.8` (H100, H200). All are linux/amd64 only, so pods
are pinned to amd64 nodes unless the image is overridden (an arm64 edge pool needs its own build, set in the
pool's engineDefaults.image). Sizing refuses Jetson and AMD GPUs for the same reason (sizing/encoders.py).

Flags, checked against the router's CLI reference:
- `--model-id PATH`: the model-loader init container fetched the repository (or it is mounted);
- `--max-batch-tokens` = maxContextLength x the batch in sequences, `--max-client-batch-size` = that batch,
  `--max-concurrent-requests` 8x it so requests queue (and te_queue_size can drive the autoscaler) before
  TEI answers 429; `--auto-truncate` cuts inputs at the model's maximum instead of failing them;
- `--dtype float16|float32` on GPUs (TEI offers no bfloat16), nothing on CPU (float32);
- `--tokenization-workers` = the cores the pod requested (TEI would count the node's cores);
- `--served-model-name` is the name the OpenAI-compatible /v1/embeddings reports;
- `--hostname 0.0.0.0` explicitly: TEI reads HOSTNAME from the environment, which Kubernetes sets to the
  pod's name, so without the flag it would bind the pod IP only.

Probes: /health answers once the model is loaded (TEI binds its port only then); metrics on /metrics of the
API port: `te_queue_size` (waiting), `te_batch_current_size` (in the running batch). No KV cache, so no
KVCacheUsage signal. Restricted Pod Security: yes; the image's /data cache is moved to the cache volume.
"""

from __future__ import annotations

from genai_operator.api.enums import Engine, Precision, Task
from genai_operator.engines.assembly import AssembledEngine, EngineChoices, refuse_single_file
from genai_operator.engines.base import CACHE_DIR, EngineContext, EngineMetrics
from genai_operator.engines.fetch import plan_model_files
from genai_operator.engines.resources import cpu_threads
from genai_operator.engines.source import UnsupportedModelSourceError

RELEASE = "1.8"
REPOSITORY = "ghcr.io/huggingface/text-embeddings-inference"
IMAGE_CPU = f"{REPOSITORY}:cpu-{RELEASE}"
IMAGE_ARCH = "amd64"
# The CUDA build per GPU type (compute capability); unknown NVIDIA types take the sm_80 build.
GPU_IMAGES: dict[str, str] = {
    "nvidia-t4": f"{REPOSITORY}:turing-{RELEASE}",
    "nvidia-a10g": f"{REPOSITORY}:86-{RELEASE}",
    "nvidia-l4": f"{REPOSITORY}:89-{RELEASE}",
    "nvidia-l40s": f"{REPOSITORY}:89-{RELEASE}",
    "nvidia-a100-40gb": f"{REPOSITORY}:{RELEASE}",
    "nvidia-a100-80gb": f"{REPOSITORY}:{RELEASE}",
    "nvidia-h100-80gb": f"{REPOSITORY}:hopper-{RELEASE}",
    "nvidia-h100-nvl": f"{REPOSITORY}:hopper-{RELEASE}",
    "nvidia-h200": f"{REPOSITORY}:hopper-{RELEASE}",
}
INIT_SECONDS = 60  # no graph compilation: load and a warm-up batch
QUEUE_FACTOR = 8
METRICS = EngineMetrics(queue_depth="te_queue_size", running_requests="te_batch_current_size", kv_cache_usage=None)


def default_image(ctx: EngineContext) -> str:
    if ctx.gpu is None:
        return IMAGE_CPU
    return GPU_IMAGES.get(ctx.gpu.key, f"{REPOSITORY}:{RELEASE}")


def tei_args(ctx: EngineContext, model_path: str) -> list[str]:
    serving = ctx.spec.serving
    sequences = ctx.sequences
    args = [
        "--model-id",
        model_path,
        "--served-model-name",
        ctx.name,
        "--hostname",
        "0.0.0.0",
        "--port",
        str(serving.port),
        "--max-batch-tokens",
        str(ctx.max_context * sequences),
        "--max-client-batch-size",
        str(sequences),
        "--max-concurrent-requests",
        str(sequences * QUEUE_FACTOR),
        "--auto-truncate",
        "--tokenization-workers",
        str(cpu_threads(ctx)),
    ]
    if ctx.gpu is not None:
        args += ["--dtype", "float32" if ctx.sizing.estimate.precision == Precision.FP32 else "float16"]
    return args


def tei_choices(ctx: EngineContext) -> EngineChoices:
    if ctx.spec.task == Task.TEXT_GENERATION:
        raise UnsupportedModelSourceError(
            f"{ctx.name}: pool {ctx.pool.name} runs TEI, which serves embedding and reranking models: set "
            "spec.task to TextEmbedding or Reranking, or another engine"
        )
    files = plan_model_files(ctx, gguf=False)
    refuse_single_file(ctx, files, loads="TEI loads a whole repository or directory")
    return EngineChoices(
        files=files,
        default_image=default_image(ctx),
        default_image_arch=IMAGE_ARCH,
        args=tei_args(ctx, files.model_path),
        cache_env={"HUGGINGFACE_HUB_CACHE": f"{CACHE_DIR}/huggingface/hub"},
        init_seconds=INIT_SECONDS,
    )


TEI_PROFILE = AssembledEngine(engine=Engine.TEI, label="tei", metrics=METRICS, choose=tei_choices)
