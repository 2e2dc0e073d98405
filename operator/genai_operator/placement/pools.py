"""Pools from PlacementPool manifests, discovered from node labels, or the offline default."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from genai_operator.api.enums import Tier
from genai_operator.api.placementpool import PlacementPool
from genai_operator.placement.inventory import NodeView
from genai_operator.placement.types import Pool
from genai_operator.sizing.gpu_catalog import gpu_by_key, gpu_by_product
from genai_operator.sizing.types import GpuType

# Edge markers of the two common edge frameworks.
KUBEEDGE_EDGE = "node-role.kubernetes.io/edge"
OPENYURT_EDGE = "openyurt.io/is-edge-worker"
OPENYURT_NODEPOOL = "apps.openyurt.io/nodepool"
# NVIDIA GPU Feature Discovery labels.
GFD_PRODUCT = "nvidia.com/gpu.product"
GFD_MEMORY = "nvidia.com/gpu.memory"
AMD_PRODUCT = "amd.com/gpu.product-name"
DEFAULT_POOL = "default"


class UnknownGpuTypeError(ValueError):
    """A PlacementPool names a GPU type the catalog does not have."""


def pool_from_manifest(manifest: PlacementPool) -> Pool:
    spec = manifest.spec
    gpu: GpuType | None = None
    resource = "nvidia.com/gpu"
    if spec.gpu is not None:
        resource = spec.gpu.resource_name
        if spec.gpu.type:
            gpu = gpu_by_key(spec.gpu.type)
            if gpu is None:
                raise UnknownGpuTypeError(
                    f"PlacementPool {manifest.metadata.name}: spec.gpu.type {spec.gpu.type!r} is not in the GPU "
                    f"catalog; use a key such as nvidia-l4 or omit it to detect the GPU from node labels"
                )
        else:
            product = spec.node_selector.get(GFD_PRODUCT)
            gpu = gpu_by_product(product) if product else None
    return Pool(
        name=manifest.metadata.name,
        tier=spec.tier,
        node_selector=tuple(sorted(spec.node_selector.items())),
        tolerations=tuple(t.to_dict() for t in spec.tolerations),
        gpu=gpu,
        gpu_resource=resource,
        cost_per_gpu_hour=Decimal(spec.cost_per_gpu_hour) if spec.cost_per_gpu_hour else None,
        engine_defaults=spec.engine_defaults,
        autoscaled=spec.autoscaled,
        cpu_only=spec.gpu is None,
    )


def with_detected_gpu(pool: Pool, nodes: Iterable[NodeView]) -> Pool:
    """Fill a pool's GPU type (and architecture) from the GFD labels of its nodes when the manifest left it out."""
    from dataclasses import replace

    from genai_operator.placement.inventory import node_in_pool

    members = [n for n in nodes if node_in_pool(n, pool)]
    arches = {n.arch for n in members}
    arch = pool.arch or (arches.pop() if len(arches) == 1 else None)
    gpu = pool.gpu
    if gpu is None and not pool.cpu_only:
        detected = {_node_gpu(n) for n in members if n.gpu_count(pool.gpu_resource, capacity=True)}
        detected.discard(None)
        if len(detected) == 1:
            gpu = detected.pop()
    return replace(pool, gpu=gpu, arch=arch)


def _node_gpu(node: NodeView) -> GpuType | None:
    labels = node.label_map
    product = labels.get(GFD_PRODUCT) or labels.get(AMD_PRODUCT)
    if not product:
        return None
    memory = labels.get(GFD_MEMORY)
    return gpu_by_product(product, int(memory) if memory and memory.isdigit() else None)


def node_tier(node: NodeView) -> Tier:
    labels = node.label_map
    if KUBEEDGE_EDGE in labels or labels.get(OPENYURT_EDGE) == "true":
        return Tier.EDGE
    return Tier.CLOUD


def discover_pools(nodes: Sequence[NodeView]) -> list[Pool]:
    """Pools with no manifest at all: one per (tier, OpenYurt node pool, GPU product) found on nodes.

    Names are deterministic (`edge-store-42`, `cloud-nvidia-l4`, `edge-cpu`) so a child Deployment keeps
    its name as long as the node labels do.
    """
    groups: dict[str, tuple[Tier, list[tuple[str, str]], GpuType | None, bool]] = {}
    for node in nodes:
        labels = node.label_map
        tier = node_tier(node)
        gpu = _node_gpu(node)
        selector: list[tuple[str, str]] = []
        parts = [tier.value.lower()]
        if tier == Tier.EDGE:
            if KUBEEDGE_EDGE in labels:
                selector.append((KUBEEDGE_EDGE, labels[KUBEEDGE_EDGE]))
            else:
                selector.append((OPENYURT_EDGE, "true"))
            if OPENYURT_NODEPOOL in labels:
                selector.append((OPENYURT_NODEPOOL, labels[OPENYURT_NODEPOOL]))
                parts.append(labels[OPENYURT_NODEPOOL])
        if gpu is not None:
            selector.append(
                (
                    GFD_PRODUCT if GFD_PRODUCT in labels else AMD_PRODUCT,
                    labels.get(GFD_PRODUCT) or labels.get(AMD_PRODUCT, ""),
                )
            )
            parts.append(gpu.key)
        elif not node.gpus:
            parts.append("cpu")
        name = _dns_name("-".join(parts))
        groups.setdefault(name, (tier, selector, gpu, not node.gpus))
    pools = []
    for name, (tier, selector, gpu, cpu_only) in sorted(groups.items()):
        tolerations: tuple[dict[str, str], ...] = ()
        if tier == Tier.EDGE:
            tolerations = tuple(
                {"key": k, "operator": "Exists", "effect": "NoSchedule"} for k, _v in selector if k == KUBEEDGE_EDGE
            )
        pools.append(
            Pool(
                name=name,
                tier=tier,
                node_selector=tuple(sorted(selector)),
                tolerations=tolerations,
                gpu=gpu,
                gpu_resource=gpu.resource_name if gpu else "nvidia.com/gpu",
                cpu_only=cpu_only,
                discovered=True,
            )
        )
    return pools


def _dns_name(text: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return name[:63].rstrip("-") or DEFAULT_POOL


def default_pool(tier: Tier | None = None) -> Pool:
    """The single pool used offline without an inventory: any node with one of the allowed GPU types."""
    return Pool(name=DEFAULT_POOL, tier=tier or Tier.CLOUD)
