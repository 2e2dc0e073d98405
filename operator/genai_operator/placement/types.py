"""Value types of the placement layer: pools, their capacity, and the decision for one model."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from genai_operator.api.cache import ModelCache
from genai_operator.api.enums import Engine, Tier
from genai_operator.api.placementpool import EngineDefaults
from genai_operator.sizing.mig_catalog import MigProfile
from genai_operator.sizing.types import GpuType, SizingDecision

MIG_SINGLE = "single"  # GPU Feature Discovery's MIG strategies (label nvidia.com/mig.strategy)
MIG_MIXED = "mixed"


@dataclass(frozen=True)
class PoolSlices:
    """The MIG slices a pool offers (placement/mig_pools.py): a replica takes one slice of one profile."""

    strategy: str  # MIG_SINGLE: slices are nvidia.com/gpu; MIG_MIXED: one nvidia.com/mig-<profile> per profile
    profiles: tuple[MigProfile, ...]  # offered, smallest memory first; empty: none detected yet
    device_class: str | None = None  # DRA: a ResourceClaim per replica instead of an extended resource
    products: tuple[str, ...] = ()  # the nodes' nvidia.com/gpu.product values (the whole GPU's, or -MIG- ones)
    wanted: tuple[str, ...] = ()  # profile names spec.gpu.slices.profiles asked for (resolved once the GPU is known)

    @property
    def resources(self) -> tuple[str, ...]:
        """The extended resources the slices are counted in (none under DRA: ResourceSlices hold them)."""
        if self.device_class:
            return ()
        if self.strategy == MIG_SINGLE:
            return ("nvidia.com/gpu",)
        return tuple(p.resource for p in self.profiles)


@dataclass(frozen=True)
class PoolCapacity:
    """What the pool's nodes offer, as last observed (or planned, offline)."""

    nodes: int = 0
    gpus_total: int = 0
    gpus_allocatable: int = 0
    gpus_requested: int = 0
    # Largest per-node figures: a replica must fit on one node.
    max_gpus_per_node: int = 0
    gpus_per_node: int = 0  # whole GPUs of the largest node, free or not: what one node of a group offers
    max_memory_bytes_per_node: int = 0
    max_cpu_millis_per_node: int = 0
    free_gpus_per_node: tuple[int, ...] = ()  # a replica's GPUs must come from one node
    # CPU pools: memory a llama.cpp replica may still take per node (empty: not tracked, nodes alike).
    free_memory_bytes_per_node: tuple[int, ...] = ()

    @property
    def gpus_free(self) -> int:
        return max(self.gpus_allocatable - self.gpus_requested, 0)


@dataclass(frozen=True)
class Pool:
    """A placement target: nodes selected by labels, reached with tolerations."""

    name: str
    tier: Tier
    node_selector: tuple[tuple[str, str], ...] = ()
    tolerations: tuple[dict[str, Any], ...] = ()
    gpu: GpuType | None = None  # None: not known yet (any allowed type), or none at all when cpu_only
    cpu_only: bool = False  # nodes without accelerators: llama.cpp on CPU
    gpu_resource: str = "nvidia.com/gpu"
    cost_per_gpu_hour: Decimal | None = None
    engine_defaults: EngineDefaults | None = None
    autoscaled: bool = False
    arch: str | None = None  # "arm64" / "amd64" when all nodes agree
    capacity: PoolCapacity | None = None  # None: unknown (no inventory), assume it fits
    discovered: bool = False  # built from node labels rather than a PlacementPool manifest
    cache: ModelCache = field(default_factory=ModelCache)
    download_connections: int | None = None  # spec.download.connections: the pool's default for its models
    # A PlacementPool without spec.gpu: GPU or CPU, and which GPU, come from its nodes (pools.detect_from_members).
    gpu_from_nodes: bool = False
    gpu_problem: str = ""  # why the GPU type could not be detected (mixed or unknown types): what to set
    slices: PoolSlices | None = None  # MIG nodes: `gpu` is the whole GPU, capacity counts slices

    @property
    def selector(self) -> dict[str, str]:
        return dict(self.node_selector)


@dataclass(frozen=True)
class PoolAssignment:
    """Replicas of one ModelDeployment on one pool, sized for that pool's hardware."""

    pool: Pool
    replicas: int
    engine: Engine  # resolved, never AUTO
    sizing: SizingDecision
    reason: str = ""


@dataclass(frozen=True)
class PlacementDecision:
    """Where a ModelDeployment's replicas go. `assignments` keeps pool order (primary first)."""

    assignments: tuple[PoolAssignment, ...]
    fits: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)
    eligible_pools: tuple[str, ...] = ()  # every pool the model fits on, whether or not it got replicas
    pending_note: str = ""  # replicas beyond the free capacity, said once: status shows it without parsing reasons

    @property
    def replicas(self) -> int:
        return sum(a.replicas for a in self.assignments)

    @property
    def primary(self) -> PoolAssignment | None:
        return self.assignments[0] if self.assignments else None
