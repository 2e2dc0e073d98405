"""What every engine module provides, and the inputs it reads.

An engine turns an `EngineContext` (the ModelDeployment spec plus one pool's resolved sizing) into an
`EnginePlan`: image, command line, environment, volumes, probes and resources of the serving container.
The render layer wraps the plan in a Deployment; engines know nothing about Kubernetes object shapes
beyond the container-level dicts they return. `assembly.py` builds the plan from what each engine chooses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from genai_operator.api.enums import Engine, GgufType, KvCacheDtype, Precision, QuantMethod, ScalingMetric
from genai_operator.api.modeldeployment import ModelDeploymentSpec
from genai_operator.placement.types import Pool, PoolAssignment
from genai_operator.settings import Settings
from genai_operator.sizing.concurrency import DEFAULT_CONTEXT, batch_sequences
from genai_operator.sizing.types import GpuType, SizingDecision

CONTAINER = "engine"
PORT_NAME = "http"
CACHE_DIR = "/cache"  # HOME, Hugging Face cache, engine caches: one emptyDir
TMP_DIR = "/tmp"
SHM_DIR = "/dev/shm"
RUN_AS_USER = 1000
DEFAULT_GPU_RESOURCE = "nvidia.com/gpu"


@dataclass(frozen=True)
class EngineContext:
    """Everything an engine reads for one pool: the spec, the pool and the sizing decided for it."""

    name: str  # the ModelDeployment name, also the served model name
    spec: ModelDeploymentSpec
    assignment: PoolAssignment
    settings: Settings = field(default_factory=Settings)

    @property
    def pool(self) -> Pool:
        return self.assignment.pool

    @property
    def sizing(self) -> SizingDecision:
        return self.assignment.sizing

    @property
    def gpu(self) -> GpuType | None:
        """The accelerator a replica uses, or None on CPU. Sizing's choice wins over the pool's label."""
        if self.pool.cpu_only or self.sizing.gpus_per_replica < 1:
            return None
        return self.sizing.gpu or self.pool.gpu

    @property
    def gpus(self) -> int:
        return self.sizing.gpus_per_replica if self.gpu is not None else 0

    @property
    def gpu_resource(self) -> str:
        """The extended resource: the pool's, unless it is the default one and the GPU names another."""
        if self.pool.gpu_resource != DEFAULT_GPU_RESOURCE or self.gpu is None:
            return self.pool.gpu_resource
        return self.gpu.resource_name

    @property
    def tensor_parallel(self) -> int:
        return max(1, self.sizing.tensor_parallel) if self.gpu is not None else 1

    @property
    def precision(self) -> Precision:
        """The resolved weight precision (sizing resolves Auto; BF16 if it somehow did not)."""
        chosen = self.sizing.estimate.precision
        if chosen == Precision.AUTO:
            chosen = self.spec.quantization.precision
        return Precision.BF16 if chosen == Precision.AUTO else chosen

    @property
    def method(self) -> QuantMethod:
        method = self.sizing.estimate.method
        return self.spec.quantization.method if method == QuantMethod.NONE else method

    @property
    def max_context(self) -> int:
        """maxContextLength as sized: the spec's, or its default for the model."""
        return self.sizing.max_context or self.spec.serving.max_context_length or DEFAULT_CONTEXT

    @property
    def sequences(self) -> int:
        """The engine's batch cap: sizing's (Auto: from the chosen hardware), else the spec's promise."""
        if self.sizing.batch_sequences:
            return self.sizing.batch_sequences
        return batch_sequences(self.assignment.engine, self.spec.serving.max_concurrent_sequences)

    @property
    def kv_fp8(self) -> bool:
        return self.spec.quantization.kv_cache == KvCacheDtype.FP8

    @property
    def supports_bf16(self) -> bool:
        return self.gpu is None or self.gpu.supports_bf16

    @property
    def gguf_type(self) -> GgufType:
        """The GGUF file to serve: the spec's, else the pool's default, else the one for the precision."""
        if self.spec.quantization.gguf_type is not None:
            return self.spec.quantization.gguf_type
        defaults = self.pool.engine_defaults
        if defaults is not None and defaults.gguf_type is not None:
            return defaults.gguf_type
        return GGUF_FOR_PRECISION.get(self.precision, GgufType.Q4_K_M)

    @property
    def credentials(self) -> str | None:
        return self.spec.model.credentials_secret

    @property
    def download_connections(self) -> int | None:
        """Parallel connections of a download: the spec's, else the pool's default; None leaves the loader's."""
        download = self.spec.model.download
        if download is not None and download.connections is not None:
            return download.connections
        return self.pool.download_connections


# llama.cpp file type for a precision when nothing names one: the common k-quant at that width.
GGUF_FOR_PRECISION: dict[Precision, GgufType] = {
    Precision.INT4: GgufType.Q4_K_M,
    Precision.INT8: GgufType.Q8_0,
    Precision.FP8: GgufType.Q8_0,
    Precision.FP16: GgufType.F16,
    Precision.BF16: GgufType.F16,
    Precision.FP32: GgufType.F16,
}


@dataclass(frozen=True)
class EngineMetrics:
    """Prometheus names of the engine's own signals, and where it serves them."""

    queue_depth: str
    running_requests: str
    kv_cache_usage: str | None  # a 0..1 ratio; None when the engine exports none
    path: str = "/metrics"
    port: str = PORT_NAME
    model_label: str | None = None  # a label carrying the served model name, when the engine sets one

    def name_for(self, metric: ScalingMetric) -> str | None:
        return {
            ScalingMetric.QUEUE_DEPTH: self.queue_depth,
            ScalingMetric.RUNNING_REQUESTS: self.running_requests,
            ScalingMetric.KV_CACHE_USAGE: self.kv_cache_usage,
        }.get(metric)


@dataclass(frozen=True)
class EnginePlan:
    """The serving container of one pool's pods, plus the pod-level pieces it needs."""

    image: str
    args: tuple[str, ...]
    port: int
    env: tuple[dict[str, Any], ...]
    env_from: tuple[dict[str, Any], ...]
    volumes: tuple[dict[str, Any], ...]
    mounts: tuple[dict[str, Any], ...]
    resources: dict[str, Any]
    startup_probe: dict[str, Any]
    readiness_probe: dict[str, Any]
    liveness_probe: dict[str, Any]
    startup_seconds: int  # the startup probe's budget: load and warm-up (files are local by then)
    init_containers: tuple[dict[str, Any], ...] = ()  # the model loader
    fetch_seconds: int = 0  # a cold download by the loader, for the Deployment's progress deadline
    command: tuple[str, ...] | None = None  # None: the image's entrypoint
    image_pull_secrets: tuple[dict[str, str], ...] = ()
    node_arch: str | None = None  # set when the image exists for one architecture only
    read_only_root_filesystem: bool = True
    needs_root: bool = False  # an engine that needs root says so here; none of the three does


class EngineProfile(Protocol):
    """One inference engine: identity, metrics and the container plan for a pool."""

    @property
    def engine(self) -> Engine: ...

    @property
    def label(self) -> str:
        """The app.kubernetes.io/name value of the engine's objects."""
        ...

    @property
    def metrics(self) -> EngineMetrics: ...

    def plan(self, ctx: EngineContext) -> EnginePlan: ...


def memory_fraction(ctx: EngineContext) -> str:
    return f"{ctx.spec.serving.gpu_memory_utilization_percent / 100:.2f}"
