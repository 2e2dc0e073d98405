"""When no node of a pool holds a replica: size it as a group of nodes instead (sizing/multinode.py).

A replica goes multi-node only when one node cannot hold it at any precision the spec allows, or
when the GPUs it needs exceed what one node of the pool has: fewer, larger replicas on one node are
always preferred (a precision: Auto 405B model runs FP8 on one 8-GPU node before BF16 on two). The
pool's nodes bound the group: its GPUs per node give the tensor-parallel size, its node count the
largest group (unknown pools: 8 GPUs per node and sizing/multinode.MAX_NODES nodes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from genai_operator.placement.split import Candidate
from genai_operator.placement.types import Pool
from genai_operator.sizing.fitting import GPU_COUNTS
from genai_operator.sizing.multinode import MAX_NODES, size_group
from genai_operator.sizing.types import GpuType, SizingDecision, SizingRequest

if TYPE_CHECKING:
    from genai_operator.planning.plan import PoolPlan


def node_shape(pool: Pool) -> tuple[int, int]:
    """(GPUs per node, most nodes a group may span) of the pool, as far as it is known."""
    capacity = pool.capacity
    if capacity is None or capacity.nodes == 0 or capacity.gpus_per_node == 0:
        return GPU_COUNTS[-1], MAX_NODES
    # An autoscaled pool adds nodes when a group's pods ask for them.
    nodes = MAX_NODES if pool.autoscaled else min(MAX_NODES, capacity.nodes)
    return capacity.gpus_per_node, nodes


def group_if_needed(
    pool: Pool, request: SizingRequest, single: SizingDecision, gpus: Sequence[GpuType]
) -> SizingDecision:
    """`single` when one node of the pool holds the replica, else the group sizing; when no group fits
    either, `single` with the group's reasons added (so the refusal says what was tried)."""
    per_node, max_nodes = node_shape(pool)
    if single.fits and single.gpus_per_replica <= per_node:
        return single
    if request.gpu_count is not None and single.fits:
        return single  # an explicit count is the user's call; the scheduler reports a node too small
    reasons: list[str] = []
    for gpu in gpus:
        if max_nodes < 2:
            reasons.append(f"pool {pool.name} has one node, and no single node holds a replica")
            break
        group = size_group(request, gpu, per_node, max_nodes)
        if isinstance(group, SizingDecision):
            return group
        reasons.append(f"as a group of nodes on {gpu.name}: {group}")
    if single.fits:
        return single
    return replace(single, reasons=(*single.reasons, *reasons))


def group_fields(sizing: SizingDecision, *, always: bool = False) -> dict[str, Any]:
    """What status.sizing (multi-node only) and the plan JSON (`always`: 1 node, pipeline 1 otherwise) say
    of a group: gpusPerReplica counts the whole group, gpusPerNode one pod's share."""
    if sizing.nodes <= 1 and not always:
        return {}
    return {
        "gpusPerReplica": sizing.total_gpus,
        "gpusPerNode": sizing.gpus_per_replica,
        "nodesPerReplica": sizing.nodes,
        "pipelineParallel": sizing.nodes,
    }


def single_node_first(
    plans: list[PoolPlan], built: list[Candidate], rejected: list[str]
) -> tuple[list[PoolPlan], list[Candidate]]:
    """Pools that hold a replica on one node win over pools that need a group: one ModelDeployment's
    replicas are all single-node or all groups, so its Service can select the serving pods (a group's
    leaders) with one label selector."""
    single = {p.pool.name for p in plans if p.sizing.nodes == 1}
    if not single or len(single) == len(plans):
        return plans, built
    for plan in plans:
        if plan.pool.name not in single:
            rejected.append(
                f"pool {plan.pool.name}: a replica would span {plan.sizing.nodes} nodes there, and other pools "
                "hold one on a single node"
            )
    return [p for p in plans if p.pool.name in single], [c for c in built if c.name in single]
