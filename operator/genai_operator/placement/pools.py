"""Pools from PlacementPool manifests, discovered from node labels, or the offline default."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal
from functools import lru_cache

from genai_operator.api.enums import Tier
from genai_operator.api.placementpool import PlacementPool
from genai_operator.formats.quantity import MIB
from genai_operator.placement.inventory import (
    GFD_COUNT,
    GFD_PRODUCT,
    GPU_RESOURCE_SUFFIX,
    SHARED_SUFFIX,
    NodeView,
    node_in_pool,
)
from genai_operator.placement.mig_pools import (
    SliceSpecError,
    detect_slices,
    node_slices,
    slice_grouping,
    slice_offer,
    slice_pool_resource,
)
from genai_operator.placement.types import Pool, PoolSlices
from genai_operator.sizing.gpu_catalog import all_gpus, gpu_by_key, gpu_by_product
from genai_operator.sizing.types import GpuType

# Edge markers of the two common edge frameworks.
KUBEEDGE_EDGE = "node-role.kubernetes.io/edge"
OPENYURT_EDGE = "openyurt.io/is-edge-worker"
OPENYURT_NODEPOOL = "apps.openyurt.io/nodepool"
# NVIDIA GPU Feature Discovery labels (memory in MiB, as nvidia-smi reports it).
GFD_MEMORY = "nvidia.com/gpu.memory"
# The ROCm node labeller's labels (`beta.` prefix: older labellers); VRAM is written like "192G".
AMD_PRODUCT = "amd.com/gpu.product-name"
AMD_PRODUCT_BETA = "beta.amd.com/gpu.product-name"
AMD_VRAM = "amd.com/gpu.vram"
AMD_VRAM_BETA = "beta.amd.com/gpu.vram"
DEFAULT_POOL = "default"


class UnknownGpuTypeError(ValueError):
    """A PlacementPool names a GPU type (or a MIG slice profile) the catalog does not have."""


def pool_from_manifest(manifest: PlacementPool) -> Pool:
    spec = manifest.spec
    slices: PoolSlices | None = None
    if spec.gpu is not None and spec.gpu.slices is not None:
        try:
            gpu, slices = slice_offer(manifest)
        except SliceSpecError as exc:
            raise UnknownGpuTypeError(str(exc)) from None
        resource = slice_pool_resource(slices)
    else:
        gpu, resource = _whole_gpus(manifest)
    return Pool(
        name=manifest.metadata.name,
        tier=spec.tier,
        node_selector=tuple(sorted(spec.node_selector.items())),
        tolerations=tuple(t.to_dict() for t in spec.tolerations),
        gpu=gpu,
        gpu_resource=resource,
        cost_per_gpu_hour=Decimal(spec.cost_per_gpu_hour) if spec.cost_per_gpu_hour else None,
        engine_defaults=spec.engine_defaults,
        cache=spec.cache,
        download_connections=spec.download.connections if spec.download else None,
        autoscaled=spec.autoscaled,
        # Without spec.gpu the nodes decide (detect_from_members); with no node to look at, the selector does.
        cpu_only=spec.gpu is None and not _selects_gpus(spec.node_selector),
        gpu_from_nodes=spec.gpu is None,
        slices=slices,
    )


def _whole_gpus(manifest: PlacementPool) -> tuple[GpuType | None, str]:
    """The GPU type and resource of a whole-GPU pool: spec.gpu, else the product its selector names."""
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
    if gpu is None:  # no type named: the selector may name the product (the nodes' labels may still tell)
        product = spec.node_selector.get(GFD_PRODUCT) or spec.node_selector.get(AMD_PRODUCT)
        memory = spec.node_selector.get(GFD_MEMORY)
        gpu = gpu_by_product(product, int(memory) if memory and memory.isdigit() else None) if product else None
        if gpu is not None and spec.gpu is None:
            resource = gpu.resource_name
    return gpu, resource


def _selects_gpus(selector: dict[str, str]) -> bool:
    return any(key in selector for key in (GFD_PRODUCT, AMD_PRODUCT, AMD_PRODUCT_BETA, GFD_COUNT))


def with_detected_gpu(pool: Pool, nodes: Iterable[NodeView]) -> Pool:
    """Fill a pool's GPU type (and architecture) from the labels of its nodes when the manifest left it out."""
    return detect_from_members(pool, [n for n in nodes if node_in_pool(n, pool)])


def detect_from_members(pool: Pool, members: Sequence[NodeView]) -> Pool:
    """`with_detected_gpu` for nodes already known to be the pool's members."""
    arches = {n.arch for n in members}
    arch = pool.arch or (arches.pop() if len(arches) == 1 else None)
    if pool.slices is not None:
        return detect_slices(replace(pool, arch=arch), members)
    if pool.gpu_from_nodes and members:
        return _gpu_from_nodes(replace(pool, arch=arch), members)
    gpu = pool.gpu
    if gpu is None and not pool.cpu_only:
        detected = {node_gpu(n) for n in members if n.gpu_count(pool.gpu_resource, capacity=True)}
        detected.discard(None)
        if len(detected) == 1:
            gpu = detected.pop()
    return replace(pool, gpu=gpu, arch=arch)


def _gpu_from_nodes(pool: Pool, members: Sequence[NodeView]) -> Pool:
    """A PlacementPool without spec.gpu: a GPU pool when its nodes advertise a GPU extended resource, of
    the type their GFD (or AMD) labels name; a CPU pool only when none of them has a GPU."""
    resources = {
        name for n in members for name, count in n.gpus_capacity if count and name.endswith(GPU_RESOURCE_SUFFIX)
    }
    if not resources:
        return replace(pool, cpu_only=True, gpu=None)
    resource = "nvidia.com/gpu" if "nvidia.com/gpu" in resources else sorted(resources)[0]
    with_gpus = [n for n in members if n.gpu_count(resource, capacity=True)]
    detected = {node_gpu(n) for n in with_gpus}
    known = sorted(g.key for g in detected if g is not None)
    problem = ""
    if len(known) > 1:
        problem = (
            f"the pool's nodes have different GPU types ({', '.join(known)}): set spec.gpu.type to the one to "
            "size for, or narrow spec.nodeSelector (e.g. nvidia.com/gpu.product) to one type"
        )
    elif None in detected:
        unknown = sorted({p[1] for n in with_gpus if node_gpu(n) is None and (p := _product(n))}) or [
            "no product label"
        ]
        problem = (
            f"nodes advertise {resource} but their GPU type is not known ({', '.join(unknown)}): set spec.gpu.type "
            "to a catalog key such as nvidia-l4, or install GPU Feature Discovery"
        )
    gpu = next(iter(detected)) if len(detected) == 1 else None
    return replace(pool, cpu_only=False, gpu=gpu, gpu_resource=resource, gpu_problem=problem)


def _product(node: NodeView) -> tuple[str, str] | None:
    """(label key, product) of the node's GPU, NVIDIA GFD first, then the ROCm node labeller."""
    labels = node.label_map
    for key in (GFD_PRODUCT, AMD_PRODUCT, AMD_PRODUCT_BETA):
        if labels.get(key):
            return key, labels[key]
    return None


def _memory_mib(node: NodeView) -> int | None:
    labels = node.label_map
    memory = labels.get(GFD_MEMORY, "")
    if memory.isdigit():
        return int(memory)
    vram = labels.get(AMD_VRAM) or labels.get(AMD_VRAM_BETA) or ""
    digits = vram.rstrip("GgBb")
    return int(digits) * 1024 if digits.isdigit() and vram[len(digits) :].upper() in ("G", "GB") else None


def node_gpu(node: NodeView) -> GpuType | None:
    """The catalog GPU a node's labels name (a `-SHARED` product is the same GPU, time-sliced)."""
    found = _product(node)
    return gpu_by_product(found[1], _memory_mib(node)) if found else None


@lru_cache(maxsize=256)
def _memory_tells_apart(product: str) -> bool:
    """Whether one product string names several catalog GPUs (Jetson "Orin"): the memory label decides."""
    probes = {gpu_by_product(product, gpu.marketed_bytes // MIB) for gpu in all_gpus()}
    probes.discard(None)
    return len(probes) > 1


def node_tier(node: NodeView) -> Tier:
    labels = node.label_map
    if KUBEEDGE_EDGE in labels or labels.get(OPENYURT_EDGE) == "true":
        return Tier.EDGE
    return Tier.CLOUD


Group = tuple[Tier, tuple[tuple[str, str], ...], str, GpuType | None, bool, PoolSlices | None]


def _group(node: NodeView) -> Group:
    """(tier, selector, name, GPU, CPU only, MIG slices) of the pool a node falls into. MIG nodes form
    slice pools of their own (placement/mig_pools.py), never whole-GPU ones."""
    labels = node.label_map
    found = _product(node)
    tier = node_tier(node)
    mig = node_slices(node)
    if mig is not None:
        mig_selector, mig_parts = slice_grouping(node, *mig)
        return tier, mig_selector, _dns_name("-".join([tier.value.lower(), *mig_parts])), mig[1], False, mig[0]
    selector: list[tuple[str, str]] = []
    parts = [tier.value.lower()]
    if tier == Tier.EDGE:
        selector.append((KUBEEDGE_EDGE, labels[KUBEEDGE_EDGE]) if KUBEEDGE_EDGE in labels else (OPENYURT_EDGE, "true"))
        if OPENYURT_NODEPOOL in labels:
            selector.append((OPENYURT_NODEPOOL, labels[OPENYURT_NODEPOOL]))
            parts.append(labels[OPENYURT_NODEPOOL])
    gpu = node_gpu(node)
    if found is not None and node.gpus:
        key, product = found
        shared = product.lower().endswith(SHARED_SUFFIX)
        selector.append((key, product))
        # Jetson modules of one product differ only in memory: keep them in separate pools.
        if gpu is not None and key == GFD_PRODUCT and _memory_tells_apart(product) and GFD_MEMORY in labels:
            selector.append((GFD_MEMORY, labels[GFD_MEMORY]))
        parts.append(gpu.key if gpu is not None else product[: -len(SHARED_SUFFIX)] if shared else product)
        if shared:
            parts.append("shared")  # time-sliced GPUs never share a pool with whole ones
    elif node.gpus:
        parts.append("gpu")  # a GPU without product labels (no GPU Feature Discovery)
    else:
        parts.append("cpu")
    return tier, tuple(sorted(selector)), _dns_name("-".join(parts)), gpu, not node.gpus, None


def discover_pools(nodes: Sequence[NodeView]) -> list[Pool]:
    """Pools with no manifest at all: one per (tier, OpenYurt node pool, GPU product) found on nodes.

    Names are deterministic (`edge-store-42-cpu`, `cloud-nvidia-l4`, `cloud-nvidia-t4-shared`) so a
    child Deployment keeps its name as long as the node labels do. Two groups that would get the same
    name (Jetson modules whose memory label differs) are told apart by a numeric suffix, in selector order.
    """
    groups: dict[tuple[tuple[tuple[str, str], ...], str], tuple[Tier, GpuType | None, bool, PoolSlices | None]] = {}
    for node in nodes:
        tier, selector, name, gpu, cpu_only, slices = _group(node)
        groups.setdefault((selector, name), (tier, gpu, cpu_only, slices))
    taken: dict[str, int] = {}
    pools = []
    for (selector, name), (tier, gpu, cpu_only, slices) in sorted(
        groups.items(), key=lambda item: (item[0][1], item[0][0])
    ):
        taken[name] = taken.get(name, 0) + 1
        unique = name if taken[name] == 1 else _dns_name(f"{name[:60]}-{taken[name]}")
        tolerations = tuple(
            {"key": k, "operator": "Exists", "effect": "NoSchedule"} for k, _v in selector if k == KUBEEDGE_EDGE
        )
        pools.append(
            Pool(
                name=unique,
                tier=tier,
                node_selector=selector,
                tolerations=tolerations,
                gpu=gpu,
                gpu_resource=slice_pool_resource(slices)
                if slices
                else gpu.resource_name
                if gpu
                else _resource_of(selector),
                cpu_only=cpu_only,
                discovered=True,
                slices=slices,
            )
        )
    return sorted(pools, key=lambda p: p.name)


def _resource_of(selector: tuple[tuple[str, str], ...]) -> str:
    """The GPU resource of an unknown product's nodes (AMD labels -> amd.com/gpu)."""
    keys = {k for k, _v in selector}
    return "amd.com/gpu" if keys & {AMD_PRODUCT, AMD_PRODUCT_BETA} else "nvidia.com/gpu"


def _dns_name(text: str) -> str:
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    name = re.sub(r"-{2,}", "-", name)
    return name[:63].rstrip("-") or DEFAULT_POOL


def default_pool(tier: Tier | None = None) -> Pool:
    """The single pool used offline without an inventory: any node with one of the allowed GPU types."""
    return Pool(name=DEFAULT_POOL, tier=tier or Tier.CLOUD)
