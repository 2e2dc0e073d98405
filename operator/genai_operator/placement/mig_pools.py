"""Pools of MIG-partitioned GPUs: which slices a node or a PlacementPool offers.

GPU Feature Discovery and the device plugin describe MIG nodes in one of two strategies (label
`nvidia.com/mig.strategy`). Single: every GPU of the node is split alike, the product label names the
slice (`NVIDIA-A100-SXM4-80GB-MIG-1g.10gb`) and `nvidia.com/gpu` counts slices. Mixed: the product
label names the whole GPU and each profile is an extended resource of its own (`nvidia.com/mig-1g.10gb`,
also labelled `nvidia.com/mig-1g.10gb.count`). With Dynamic Resource Allocation no extended resource
exists: the DRA driver publishes the slices as ResourceSlices and the count labels are what we can see.
Whole-GPU pools never take these nodes; a slice pool's capacity counts slices (inventory.pool_gpus).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from genai_operator.api.placementpool import PlacementPool
from genai_operator.placement.inventory import GFD_PRODUCT, NodeView
from genai_operator.placement.types import MIG_MIXED, MIG_SINGLE, Pool, PoolSlices
from genai_operator.sizing.gpu_catalog import gpu_by_key, gpu_by_product
from genai_operator.sizing.mig_catalog import (
    MIG_RESOURCE_PREFIX,
    MigProfile,
    is_profile_name,
    mig_gpus,
    profile_by_name,
    profiles_of,
)
from genai_operator.sizing.types import GpuType

GFD_MIG_STRATEGY = "nvidia.com/mig.strategy"
GFD_MEMORY = "nvidia.com/gpu.memory"
MIG_PRODUCT_MARKER = "-MIG-"


Selector = tuple[tuple[str, str], ...]


class SliceSpecError(ValueError):
    """A PlacementPool's spec.gpu.slices names what its GPU cannot offer."""


def _split_product(product: str) -> tuple[str, str] | None:
    """(whole GPU product, profile) of a single-strategy product label, e.g. `...-MIG-1g.10gb`."""
    head, marker, profile = product.partition(MIG_PRODUCT_MARKER)
    if not marker:
        head, marker, profile = product.partition(MIG_PRODUCT_MARKER.lower())
    return (head, profile) if marker and profile else None


def _mixed_profiles(node: NodeView) -> tuple[str, ...]:
    """Profiles a mixed-strategy node advertises as extended resources, or, without any (DRA), in labels."""
    names = {r[len(MIG_RESOURCE_PREFIX) :] for r, count in node.gpus_capacity if r.startswith(MIG_RESOURCE_PREFIX)}
    if not names:
        names = {
            key[len(MIG_RESOURCE_PREFIX) : -len(".count")]
            for key, value in node.labels
            if key.startswith(MIG_RESOURCE_PREFIX) and key.endswith(".count") and value not in ("", "0")
        }
    return tuple(sorted(n for n in names if is_profile_name(n)))


def node_slices(node: NodeView) -> tuple[PoolSlices, GpuType | None] | None:
    """The slices a MIG node offers and its whole GPU (None when not in the catalog); None for other nodes."""
    labels = node.label_map
    product = labels.get(GFD_PRODUCT, "")
    single = _split_product(product)
    if single is not None:
        whole = gpu_by_product(single[0])
        profile = profile_by_name(whole.key, single[1]) if whole else None
        return PoolSlices(MIG_SINGLE, (profile,) if profile else (), products=(product,)), whole
    names = _mixed_profiles(node)
    if not names or labels.get(GFD_MIG_STRATEGY, MIG_MIXED) == MIG_SINGLE:
        return None
    memory = labels.get(GFD_MEMORY, "")
    whole = gpu_by_product(product, int(memory) if memory.isdigit() else None) if product else None
    return PoolSlices(MIG_MIXED, _resolve(whole, names), products=(product,) if product else ()), whole


def is_mig_node(node: NodeView) -> bool:
    return node_slices(node) is not None


def _resolve(whole: GpuType | None, names: Sequence[str]) -> tuple[MigProfile, ...]:
    """Catalog profiles of the whole GPU by name, smallest first (names the GPU lacks are left out)."""
    if whole is None:
        return ()
    found = {p.name: p for n in names if (p := profile_by_name(whole.key, n)) is not None}
    return tuple(sorted(found.values(), key=lambda p: (p.memory_bytes, p.compute_slices)))


def slices_from_manifest(manifest: PlacementPool, whole: GpuType | None) -> PoolSlices:
    """spec.gpu.slices as a PoolSlices; raises SliceSpecError naming the field and the fix."""
    spec = manifest.spec
    assert spec.gpu is not None and spec.gpu.slices is not None  # the caller checked
    name = manifest.metadata.name
    wanted = tuple(dict.fromkeys(spec.gpu.slices.profiles))
    if whole is not None and whole.key not in mig_gpus():
        raise SliceSpecError(
            f"PlacementPool {name}: spec.gpu.slices: {whole.key} cannot be split into MIG slices; MIG GPUs are "
            f"{', '.join(mig_gpus())}: set spec.gpu.type to one of them or remove spec.gpu.slices"
        )
    if whole is not None:
        unknown = [n for n in wanted if profile_by_name(whole.key, n) is None]
        if unknown:
            offered = ", ".join(p.name for p in profiles_of(whole.key))
            raise SliceSpecError(
                f"PlacementPool {name}: spec.gpu.slices.profiles: {', '.join(unknown)} is not a MIG profile of "
                f"{whole.key}; use {offered}"
            )
    product = spec.node_selector.get(GFD_PRODUCT, "")
    single = _split_product(product) is not None or spec.node_selector.get(GFD_MIG_STRATEGY) == MIG_SINGLE
    return PoolSlices(
        MIG_SINGLE if single else MIG_MIXED,
        _resolve(whole, wanted),
        device_class=spec.gpu.slices.device_class_name,
        products=(product,) if product else (),
        wanted=wanted,
    )


def slice_offer(manifest: PlacementPool) -> tuple[GpuType | None, PoolSlices]:
    """The whole GPU (spec.gpu.type, else the product selector, a -MIG- one too) and the slices of a
    spec.gpu.slices pool; raises SliceSpecError naming the field and the fix."""
    spec = manifest.spec
    assert spec.gpu is not None
    product = spec.node_selector.get(GFD_PRODUCT, "")
    split = _split_product(product)
    if spec.gpu.type:
        whole = gpu_by_key(spec.gpu.type)
        if whole is None:
            raise SliceSpecError(
                f"PlacementPool {manifest.metadata.name}: spec.gpu.type {spec.gpu.type!r} is not in the GPU "
                "catalog; use a MIG GPU key such as nvidia-a100-80gb or omit it to detect the GPU from node labels"
            )
    else:
        whole = gpu_by_product(split[0] if split else product) if product else None
    return whole, slices_from_manifest(manifest, whole)


def slice_grouping(node: NodeView, slices: PoolSlices, whole: GpuType | None) -> tuple[Selector, list[str]]:
    """The selector and name parts of the discovered pool of a MIG node: in the single strategy one pool per
    slice product, in the mixed one a pool per whole GPU product with all its profiles."""
    labels = node.label_map
    product = labels.get(GFD_PRODUCT, "")
    selector = [(GFD_PRODUCT, product)] if product else []
    parts = [whole.key if whole else product or "gpu", "mig"]
    if slices.strategy == MIG_SINGLE:
        parts += [p.name for p in slices.profiles]
    else:
        selector.append((GFD_MIG_STRATEGY, labels.get(GFD_MIG_STRATEGY, MIG_MIXED)))
    return tuple(sorted(selector)), parts


def detect_slices(pool: Pool, members: Sequence[NodeView]) -> Pool:
    """A slice pool with what its nodes tell: the whole GPU when unnamed, the strategy, and the profiles
    (those the manifest named, else every profile a member offers)."""
    assert pool.slices is not None
    seen = [found for n in members if (found := node_slices(n)) is not None]
    whole = pool.gpu
    if whole is None:
        kinds = {gpu for _s, gpu in seen if gpu is not None}
        whole = kinds.pop() if len(kinds) == 1 else None
    slices = pool.slices
    if seen and not slices.device_class:
        strategies = {s.strategy for s, _g in seen}
        slices = replace(slices, strategy=strategies.pop() if len(strategies) == 1 else slices.strategy)
    names = slices.wanted or tuple(p.name for s, _g in seen for p in s.profiles)
    products = slices.products or tuple(sorted({p for s, _g in seen for p in s.products}))
    slices = replace(slices, profiles=_resolve(whole, names) or slices.profiles, products=products)
    problem = (
        ""
        if slices.profiles
        else (
            f"no MIG profile known for pool {pool.name}: set spec.gpu.type and spec.gpu.slices.profiles, or label "
            "the nodes with GPU Feature Discovery"
        )
    )
    return replace(pool, gpu=whole, slices=slices, gpu_resource=slice_pool_resource(slices), gpu_problem=problem)


def slice_pool_resource(slices: PoolSlices) -> str:
    """The resource a slice pool's pods tolerate and, for one profile, request."""
    return slices.resources[0] if slices.resources else "nvidia.com/gpu"
