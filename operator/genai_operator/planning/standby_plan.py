"""Warm standby on one pool (pure): whether a sleeping replica can live there, and the memory it asks for.

A sleeping vLLM replica keeps its weights in the pod's CPU memory, so the pod requests them on top of what
it needs awake (engines/sleep_mode.py). A pool qualifies when it runs vLLM on one node per replica and its
largest node has that much allocatable memory; several replicas on one node are then kept apart by the
scheduler, which counts memory requests per node (a pod that finds no room waits, and placement over time
moves it to the next pool like any unschedulable replica).
"""

from __future__ import annotations

from genai_operator.api.enums import Engine
from genai_operator.api.modeldeployment import ModelDeploymentSpec
from genai_operator.api.scaling import standby_of
from genai_operator.engines.base import EngineContext
from genai_operator.engines.resources import resources, shm_gib
from genai_operator.formats.quantity import gib_text, to_bytes
from genai_operator.placement.types import Pool, PoolAssignment
from genai_operator.planning.model_shape import SpecError
from genai_operator.sizing.types import SizingDecision


def pod_memory_bytes(spec: ModelDeploymentSpec, pool: Pool, engine: Engine, sizing: SizingDecision) -> int:
    """The memory request the operator derives for one replica's pod (spec.resources.memory left aside)."""
    derived = spec.model_copy(update={"resources": spec.resources.model_copy(update={"memory": None})})
    ctx = EngineContext(name="", spec=derived, assignment=PoolAssignment(pool, 1, engine, sizing))
    return to_bytes(resources(ctx, shm=shm_gib(ctx.tensor_parallel), disk_bytes=0)["requests"]["memory"])


def standby_misfit(spec: ModelDeploymentSpec, pool: Pool, engine: Engine, sizing: SizingDecision) -> str:
    """Why warm standby cannot run on this pool ('' when it can); SpecError when the spec itself is short."""
    standby = standby_of(spec.scaling)
    if standby is None:
        return ""
    if engine != Engine.VLLM:
        return (
            f"pool {pool.name}: scaling.warmStandby uses vLLM's sleep mode, but this pool runs {engine.value}: "
            "set engine VLLM and GPU pools, or remove warmStandby"
        )
    if sizing.nodes > 1 or sizing.gpu is None:
        return (
            f"pool {pool.name}: scaling.warmStandby needs a replica on one GPU node, and this one spans "
            f"{sizing.nodes} nodes: choose pools with larger nodes, or remove warmStandby"
        )
    needed = pod_memory_bytes(spec, pool, engine, sizing)
    asked = spec.resources.memory
    if asked and to_bytes(asked) < needed:
        raise SpecError(
            "spec.resources.memory",
            f"{asked} is less than a warm-standby replica needs on pool {pool.name} ({gib_text(needed)}: its "
            "weights stay in CPU memory while it sleeps): raise it, or leave it unset to have it derived",
        )
    node = pool.capacity.max_memory_bytes_per_node if pool.capacity and pool.capacity.nodes else 0
    if node and node < max(needed, to_bytes(asked or 0)):
        return (
            f"pool {pool.name}: a warm-standby replica requests {gib_text(max(needed, to_bytes(asked or 0)))} of "
            f"memory (its weights stay in CPU memory while it sleeps), more than the largest node's "
            f"{gib_text(node)}: choose a pool with more memory per node, or remove warmStandby"
        )
    return ""
