"""The serving container put together the same way for every engine, from what each engine chooses.

An engine module decides its image, command line, cache variables, shared memory and warm-up time
(`EngineChoices`); `assemble_plan` adds what all engines share: the model files the loader fetched, the
writable volumes, the environment, resources from sizing, the /health probes within the startup budget.

Pod Security: every engine runs as a non-root numeric user with a read-only root filesystem. None of the
three default images sets a USER (they run as root by default), but none needs root either: what they
write is home-relative caches (~/.cache, ~/.triton, ~/.config), the Hugging Face cache and /tmp, so HOME,
HF_HOME and the engine's own cache variable point at writable emptyDir volumes. USER is set because
PyTorch's getpass.getuser() fails for a UID without a passwd entry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from genai_operator.api.enums import Engine
from genai_operator.engines.base import (
    CACHE_DIR,
    PORT_NAME,
    SHM_DIR,
    TMP_DIR,
    EngineContext,
    EngineMetrics,
    EnginePlan,
)
from genai_operator.engines.fetch import ModelFiles, fetched_bytes, node_disk_bytes
from genai_operator.engines.resources import STARTUP_PERIOD_SECONDS, fetch_seconds, resources, startup_seconds
from genai_operator.engines.source import UnsupportedModelSourceError

# Not /v1/models: an --api-key in extraArgs guards /v1/* and would keep every pod unready.
HEALTH_PATH = "/health"


@dataclass(frozen=True)
class EngineChoices:
    """What one engine decides for a pool; everything else of its plan is the same for all engines."""

    files: ModelFiles  # the weights as the engine loads them (a directory, or a GGUF file)
    default_image: str  # used unless the spec, the pool or the settings name another
    args: Sequence[str]  # the engine's own flags; spec.serving.extraArgs follow them
    cache_env: dict[str, str]  # the engine's own cache and telemetry variables
    init_seconds: int  # warm-up after loading (compilation, CUDA graphs), for the startup budget
    shm_gib: int = 0  # a memory-backed /dev/shm for NCCL; 0 keeps the runtime's small default
    env_from: tuple[dict[str, Any], ...] = ()  # Secrets whose keys the engine reads itself (streamed weights)
    streamed_bytes: int = 0  # weights the engine downloads while it loads (spec.model.loadFormat Stream)
    default_image_arch: str | None = None  # the only architecture the default image exists for
    command: tuple[str, ...] | None = None  # None: the image's entrypoint


@dataclass(frozen=True)
class AssembledEngine:
    """An engine profile: its identity and metrics, and the function that makes its choices for a pool."""

    engine: Engine
    label: str  # the app.kubernetes.io/name value of the engine's objects
    metrics: EngineMetrics
    choose: Callable[[EngineContext], EngineChoices]

    def plan(self, ctx: EngineContext) -> EnginePlan:
        return assemble_plan(ctx, self.choose(ctx))


def assemble_plan(ctx: EngineContext, choices: EngineChoices) -> EnginePlan:
    files = choices.files
    volumes, mounts = writable_volumes(choices.shm_gib)
    budget = startup_seconds(ctx, init_seconds=choices.init_seconds, streamed_bytes=choices.streamed_bytes)
    image = choose_image(ctx, choices.default_image)
    return EnginePlan(
        image=image,
        command=choices.command,
        args=(*choices.args, *ctx.spec.serving.extra_args),  # last, so a user flag overrides ours
        port=ctx.spec.serving.port,
        env=tuple(common_env(choices.cache_env)),
        env_from=choices.env_from,
        volumes=tuple(volumes) + files.volumes,
        mounts=tuple(mounts) + files.mounts,
        resources=resources(ctx, shm=choices.shm_gib, disk_bytes=node_disk_bytes(ctx, files)),
        startup_probe=http_probe(
            HEALTH_PATH, period=STARTUP_PERIOD_SECONDS, timeout=5, failures=budget // STARTUP_PERIOD_SECONDS
        ),
        readiness_probe=http_probe(HEALTH_PATH, period=10, timeout=5, failures=3),
        liveness_probe=http_probe(HEALTH_PATH, period=30, timeout=10, failures=5),
        startup_seconds=budget,
        image_pull_secrets=files.image_pull_secrets,
        # An override may be multi-arch: only the default image is known to exist for one architecture.
        node_arch=choices.default_image_arch if image == choices.default_image else None,
        init_containers=(files.init_container,) if files.init_container else (),
        fetch_seconds=fetch_seconds(fetched_bytes(ctx, fetched=files.fetched)),
    )


def refuse_adapters(ctx: EngineContext, engine: str, *, remedy: str = "set engine VLLM") -> None:
    """Only vLLM and SGLang serve LoRA adapters; another engine names itself and what to change."""
    if ctx.spec.adapters:
        raise UnsupportedModelSourceError(
            f"{ctx.name}: spec.adapters are served by vLLM or SGLang, but pool {ctx.pool.name} runs {engine}: {remedy} "
            "or remove the adapters"
        )


def refuse_single_file(ctx: EngineContext, files: ModelFiles, *, loads: str) -> None:
    """Engines that load a whole repository cannot serve one file picked out of it."""
    if files.location.file:
        raise UnsupportedModelSourceError(f"{ctx.name}: {loads}; write hf://{files.location.repo} without a file path")


def http_probe(path: str, *, period: int, timeout: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": PORT_NAME, "scheme": "HTTP"},
        "periodSeconds": period,
        "timeoutSeconds": timeout,
        "failureThreshold": failures,
        "successThreshold": 1,
    }


def common_env(engine_cache_vars: dict[str, str]) -> list[dict[str, Any]]:
    """HOME and caches on writable volumes; telemetry off (an operator should not phone home for users)."""
    values = {
        "HOME": CACHE_DIR,
        "USER": "engine",
        "HF_HOME": f"{CACHE_DIR}/huggingface",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_OFFLINE": "1",  # the model-loader init container fetched everything; never call the Hub
        "DO_NOT_TRACK": "1",
        **engine_cache_vars,
    }
    return [{"name": k, "value": v} for k, v in values.items()]


def writable_volumes(shm_gib: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The cache and /tmp emptyDirs, plus a memory-backed /dev/shm when the engine shares tensors via NCCL."""
    volumes: list[dict[str, Any]] = [{"name": "cache", "emptyDir": {}}, {"name": "tmp", "emptyDir": {}}]
    mounts: list[dict[str, Any]] = [
        {"name": "cache", "mountPath": CACHE_DIR},
        {"name": "tmp", "mountPath": TMP_DIR},
    ]
    if shm_gib:
        volumes.append({"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{shm_gib}Gi"}})
        mounts.append({"name": "shm", "mountPath": SHM_DIR})
    return volumes, mounts


def choose_image(ctx: EngineContext, default: str) -> str:
    """Most specific wins: spec.serving.image, pool engineDefaults.image, Settings.images, the default."""
    if ctx.spec.serving.image:
        return ctx.spec.serving.image
    defaults = ctx.pool.engine_defaults
    if defaults is not None and defaults.image:
        return defaults.image
    return ctx.settings.images.get(ctx.assignment.engine, default)
