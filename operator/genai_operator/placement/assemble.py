"""The pool list the planner works with: manifests (or discovery), GPU detection and capacity from nodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from genai_operator.api.placementpool import PlacementPool
from genai_operator.placement.inventory import NodeIndex, NodeView, capacity_of_members
from genai_operator.placement.pools import detect_from_members, discover_pools, pool_from_manifest
from genai_operator.placement.types import Pool


def build_pools(
    manifests: Sequence[PlacementPool],
    nodes: Sequence[NodeView] | None,
    requested_by_node: Mapping[str, int] | None = None,
) -> list[Pool] | None:
    """Pools with capacity; None when there is no inventory at all (offline: the single default pool).

    PlacementPool manifests win; without any, pools are discovered from node labels. Without nodes,
    manifest pools have unknown capacity (placement assumes they fit). Each pool's members are found
    once, through a label index, and serve both GPU detection and capacity.
    """
    return with_capacity(pool_layout(manifests, nodes), requested_by_node)


Layout = list[tuple[Pool, list[NodeView] | None]] | None


def pool_layout(manifests: Sequence[PlacementPool], nodes: Sequence[NodeView] | None) -> Layout:
    """Everything of build_pools but capacity: depends on nodes and pools only, so callers can cache it."""
    if not manifests and not nodes:
        return None
    pools = [pool_from_manifest(m) for m in manifests] if manifests else discover_pools(nodes or [])
    if nodes is None:
        return [(p, None) for p in pools]
    index = NodeIndex(nodes)
    out: list[tuple[Pool, list[NodeView] | None]] = []
    for pool in pools:
        members = index.members(pool)
        detected = detect_from_members(pool, members)
        if detected.arch != pool.arch:  # a detected architecture narrows nothing: all members share it
            members = [n for n in members if n.arch == detected.arch]
        out.append((detected, members))
    return out


def with_capacity(layout: Layout, requested_by_node: Mapping[str, int] | None) -> list[Pool] | None:
    if layout is None:
        return None
    return [p if m is None else replace(p, capacity=capacity_of_members(p, m, requested_by_node)) for p, m in layout]
