"""The status of a ModelDeployment: what the operator decided and what it observes."""

from __future__ import annotations

from pydantic import Field

from genai_operator.api.base import ApiModel
from genai_operator.api.cold_start import ColdStartStatus
from genai_operator.api.conditions import Condition
from genai_operator.api.slices import SliceStatus
from genai_operator.api.standby import StandbyStatus


class SizingStatus(ApiModel):
    """The sizing of one replica in the primary pool."""

    task: str | None = Field(default=None, description="spec.task: TextGeneration, TextEmbedding or Reranking.")
    engine: str = Field(description="The engine serving the model (VLLM, SGLang, LlamaCpp, TEI or TGI).")
    precision: str = Field(description="The weight precision chosen.")
    weights_bytes: int = Field(ge=0, description="Memory of the weights per replica, in bytes.")
    kv_cache_bytes: int = Field(ge=0, description="KV-cache memory per replica, in bytes.")
    total_bytes_per_replica: int = Field(ge=0, description="Weights, KV cache and engine overhead, in bytes.")
    gpu_type: str = Field(description="GPU type key, or 'cpu' for CPU-only replicas.")
    gpus_per_replica: int = Field(ge=0, description="GPUs each replica requests (all nodes of a multi-node replica).")
    tensor_parallel: int = Field(ge=1, description="Tensor-parallel size of each replica (per node when multi-node).")
    gpus_per_node: int | None = Field(
        default=None, ge=1, description="Multi-node replicas only: GPUs of each of its pods, one pod per node."
    )
    nodes_per_replica: int | None = Field(
        default=None,
        ge=2,
        description="Multi-node replicas only: the nodes one replica spans, as one LeaderWorkerSet group (no single "
        "node of the pool holds it).",
    )
    pipeline_parallel: int | None = Field(
        default=None, ge=2, description="Multi-node replicas only: pipeline-parallel size, one stage per node."
    )
    kv_cache_tokens: int | None = Field(
        default=None,
        ge=0,
        description="KV-cache capacity of one replica on the chosen GPUs, in tokens (vLLM and TGI give the cache all "
        "memory left after weights and overhead; llama.cpp its slots).",
    )
    full_context_sequences: int | None = Field(
        default=None, ge=0, description="Full maxContextLength sequences that KV cache holds at once."
    )
    slice: SliceStatus | None = Field(
        default=None, description="Replicas on a MIG slice pool: the slice profile each one takes."
    )


class PoolPlacementStatus(ApiModel):
    """Replicas placed on one pool, and why."""

    pool: str = Field(description="PlacementPool name.")
    replicas: int = Field(ge=0, description="Replicas assigned to the pool.")
    ready_replicas: int = Field(default=0, ge=0, description="Replicas ready in the pool.")
    engine: str | None = Field(default=None, description="Engine used in this pool.")
    precision: str | None = Field(default=None, description="Precision used in this pool.")
    gpu_type: str | None = Field(default=None, description="GPU type used in this pool.")
    gpus_per_replica: int | None = Field(default=None, ge=0, description="GPUs per replica in this pool.")
    reason: str | None = Field(default=None, description="Why the pool got this share.")
    unschedulable_replicas: int | None = Field(
        default=None, ge=0, description="Replicas of this pool waiting for a node that can take them."
    )
    cache: str | None = Field(
        default=None,
        description="Model cache of the pool: None, Shared (its claim, with the phase when the operator owns it: "
        "Pending, Bound or Lost) or NodeLocal.",
    )
    rollout: str | None = Field(
        default=None,
        description="Rollout strategy in force: Surge (an extra replica first, no capacity lost) or "
        "OneAtATime (no GPU room for an extra replica, or a NodeLocal cache).",
    )


class SiteEndpointStatus(ApiModel):
    """The site-first routing endpoint of one edge pool (spec.routing)."""

    pool: str = Field(description="PlacementPool name (an Edge pool with replicas).")
    endpoint: str = Field(
        description="The site proxy's OpenAI-compatible endpoint: the pool's replicas first, the global "
        "endpoint (status.endpoint) when none is ready."
    )


class ModelDeploymentStatus(ApiModel):
    """Observed state, written only by the operator."""

    observed_generation: int | None = Field(default=None, description="The generation last reconciled.")
    replicas: int | None = Field(default=None, ge=0, description="Replicas across all pools (for /scale).")
    ready_replicas: int | None = Field(default=None, ge=0, description="Ready replicas across all pools.")
    selector: str | None = Field(default=None, description="Label selector of the pods (for /scale and HPA).")
    endpoint: str | None = Field(default=None, description="In-cluster OpenAI-compatible endpoint.")
    site_endpoints: list[SiteEndpointStatus] | None = Field(
        default=None,
        description="With spec.routing: one endpoint per Edge pool with replicas, for clients at that site.",
    )
    sizing: SizingStatus | None = Field(default=None, description="Per-replica sizing.")
    placement: list[PoolPlacementStatus] | None = Field(default=None, description="Replicas per pool.")
    placement_pending_since: str | None = Field(
        default=None,
        description="Since when a better split across pools has been possible; replicas move once it has "
        "stayed possible for the operator's return delay (hysteresis).",
        json_schema_extra={"format": "date-time"},
    )
    cold_start: ColdStartStatus | None = Field(
        default=None, description="How long the newest ready replica took from pod creation to Ready."
    )
    standby: StandbyStatus | None = Field(default=None, description="Warm standby (spec.scaling.warmStandby).")
    conditions: list[Condition] | None = Field(default=None, description="Standard conditions.")
