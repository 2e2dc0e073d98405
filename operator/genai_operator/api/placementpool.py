"""The PlacementPool kind (cluster-scoped): a named set of nodes and how to reach them."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from genai_operator.api.base import IMAGE_PATTERN, NAME_MAX, ApiModel
from genai_operator.api.cache import ModelCache
from genai_operator.api.cel import rule, validations
from genai_operator.api.conditions import Condition
from genai_operator.api.enums import Engine, GgufType, Precision, QuantMethod, Tier
from genai_operator.api.metadata import ObjectMeta
from genai_operator.api.model_loading import Download
from genai_operator.api.slices import PoolSlices

COST_PATTERN = r"^[0-9]+(\.[0-9]{1,4})?$"
SLICES_RESOURCE_MESSAGE = (
    "gpu.slices are NVIDIA MIG slices: leave gpu.resourceName at nvidia.com/gpu (the slice resources, "
    "nvidia.com/mig-<profile>, follow from gpu.slices.profiles)"
)


class Toleration(ApiModel):
    """A core/v1 Toleration."""

    key: str | None = Field(default=None, max_length=316, description="Taint key to tolerate.")
    operator: Literal["Exists", "Equal"] = Field(default="Equal", description="Exists or Equal.")
    value: str | None = Field(default=None, max_length=63, description="Taint value with operator Equal.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        default=None, description="Taint effect to tolerate; empty tolerates all effects."
    )
    toleration_seconds: int | None = Field(default=None, ge=0, description="How long a NoExecute taint is tolerated.")


class PoolGpu(ApiModel):
    """The accelerators of the pool's nodes."""

    model_config = {
        **ApiModel.model_config,
        "json_schema_extra": validations(
            rule(
                "!has(self.slices) || self.resourceName == 'nvidia.com/gpu'",
                SLICES_RESOURCE_MESSAGE,
                field_path=".resourceName",
            )
        ),
    }

    resource_name: str = Field(
        default="nvidia.com/gpu",
        max_length=253,
        pattern=r"^[a-z0-9.-]+/[a-z0-9.-]+$",
        description="Extended resource of the GPUs, e.g. nvidia.com/gpu or amd.com/gpu.",
    )
    type: str | None = Field(
        default=None,
        max_length=NAME_MAX,
        description="GPU type by catalog key (nvidia-l4, ...); detected from GPU Feature Discovery labels when unset.",
    )
    slices: PoolSlices | None = Field(
        default=None,
        description="The nodes' GPUs are split into MIG slices: replicas are sized for one slice each.",
    )

    @model_validator(mode="after")
    def _slices_are_nvidia(self) -> PoolGpu:
        if self.slices is not None and self.resource_name != "nvidia.com/gpu":
            raise ValueError(SLICES_RESOURCE_MESSAGE)
        return self


class EngineDefaults(ApiModel):
    """Defaults for ModelDeployments placed on this pool that leave engine or quantization on Auto."""

    engine: Engine = Field(default=Engine.AUTO, description="Engine for Auto ModelDeployments.")
    precision: Precision = Field(default=Precision.AUTO, description="Precision for Auto ModelDeployments.")
    method: QuantMethod | None = Field(default=None, description="Quantization method to use here.")
    gguf_type: GgufType | None = Field(default=None, description="GGUF type for llama.cpp on this pool.")
    image: str | None = Field(
        default=None, max_length=512, pattern=IMAGE_PATTERN, description="Engine image override for this pool."
    )


class PlacementPoolSpec(ApiModel):
    """Which nodes form the pool and how pods reach them."""

    tier: Tier = Field(description="Edge, OnPrem or Cloud.")
    node_selector: dict[str, Annotated[str, Field(max_length=63)]] = Field(
        default_factory=dict, max_length=32, description="Labels a node must carry to belong to the pool."
    )
    tolerations: list[Toleration] = Field(
        default_factory=list, max_length=32, description="Tolerations added to pods placed on the pool."
    )
    gpu: PoolGpu | None = Field(default=None, description="GPUs of the pool; omit for CPU-only pools.")
    cost_per_gpu_hour: str | None = Field(
        default=None,
        max_length=16,
        pattern=COST_PATTERN,
        description="Cost of one GPU-hour as a decimal string, e.g. '2.50'; used by the Cheapest strategy.",
    )
    engine_defaults: EngineDefaults | None = Field(default=None, description="Engine defaults for the pool.")
    autoscaled: bool = Field(
        default=False,
        description="Nodes appear on demand (cluster-autoscaler, Karpenter): place "
        "replicas even when no node exists yet.",
    )
    max_gpus: int | None = Field(default=None, ge=0, description="Cap on GPUs this operator may request here.")
    cache: ModelCache = Field(
        default_factory=ModelCache, description="Model cache of replicas placed here (default: none, an emptyDir)."
    )
    download: Download | None = Field(
        default=None,
        description="Default download settings of models placed here (a ModelDeployment's spec.model.download wins).",
    )


class PlacementPoolStatus(ApiModel):
    """Capacity of the pool as last observed."""

    observed_generation: int | None = Field(default=None, description="The generation last reconciled.")
    nodes: int = Field(default=0, ge=0, description="Nodes in the pool.")
    gpu_type: str | None = Field(default=None, description="Detected GPU type key.")
    gpus_total: int = Field(default=0, ge=0, description="GPU capacity of the pool's nodes.")
    gpus_allocatable: int = Field(default=0, ge=0, description="GPUs allocatable on the pool's nodes.")
    gpus_requested: int = Field(default=0, ge=0, description="GPUs requested by pods on the pool's nodes.")
    gpus_free: int = Field(default=0, ge=0, description="Allocatable minus requested.")
    conditions: list[Condition] | None = Field(default=None, description="Standard conditions.")


class PlacementPool(ApiModel):
    """A whole PlacementPool manifest."""

    model_config = {**ApiModel.model_config, "extra": "ignore"}

    api_version: Literal["genaiops.dev/v1alpha1"] = Field(description="genaiops.dev/v1alpha1")
    kind: Literal["PlacementPool"] = Field(description="PlacementPool")
    metadata: ObjectMeta
    spec: PlacementPoolSpec
    status: PlacementPoolStatus | None = None
