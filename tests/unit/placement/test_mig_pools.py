"""MIG slice pools (placement/mig_pools.py, spec.gpu.slices): nodes in the single and the mixed strategy
become slice pools apart from whole-GPU ones, capacity counts slices, PlacementPools name profiles (checked
against the GPU), and DRA pools count slices from GPU Feature Discovery labels."""

from __future__ import annotations

from typing import Any

import pytest

from genai_operator.api.placementpool import PlacementPool
from genai_operator.placement.assemble import build_pools
from genai_operator.placement.inventory import node_view
from genai_operator.placement.pools import UnknownGpuTypeError, pool_from_manifest
from genai_operator.placement.types import MIG_MIXED, MIG_SINGLE, Pool
from support.node_objects import node, nvidia_node

MIXED_LABELS = {
    "nvidia.com/gpu.product": "NVIDIA-A100-80GB-PCIe",
    "nvidia.com/gpu.memory": "81920",
    "nvidia.com/gpu.count": "1",
    "nvidia.com/mig.strategy": "mixed",
}


def mixed_node(name: str, **slices: int) -> dict[str, Any]:
    """A mixed-strategy A100: one extended resource per profile (`one_g` -> nvidia.com/mig-1g.10gb)."""
    raw = node(name, dict(MIXED_LABELS), gpus=("nvidia.com/gpu", 0))
    for profile, count in slices.items():
        for part in ("allocatable", "capacity"):
            raw["status"][part][f"nvidia.com/mig-{profile}"] = str(count)
    return raw


def pools_of(*nodes: dict[str, Any], manifests: list[PlacementPool] | None = None) -> dict[str, Pool]:
    return {p.name: p for p in build_pools(manifests or [], [node_view(n) for n in nodes]) or []}


def manifest(name: str, gpu: dict[str, Any], selector: dict[str, str] | None = None) -> PlacementPool:
    return PlacementPool.model_validate(
        {
            "apiVersion": "genaiops.dev/v1alpha1",
            "kind": "PlacementPool",
            "metadata": {"name": name},
            "spec": {"tier": "OnPrem", "nodeSelector": selector or dict(MIXED_LABELS), "gpu": gpu},
        }
    )


def test_mixed_strategy_node_is_a_slice_pool_of_all_its_profiles() -> None:
    mig = mixed_node("mig-0", **{"1g.10gb": 3, "2g.20gb": 2})
    whole = nvidia_node("dgx-0", "NVIDIA-A100-SXM4-80GB", 81920, 4)
    pools = pools_of(mig, whole)
    assert sorted(pools) == ["cloud-nvidia-a100-80gb", "cloud-nvidia-a100-80gb-mig"]
    sliced = pools["cloud-nvidia-a100-80gb-mig"]
    assert sliced.slices is not None and sliced.slices.strategy == MIG_MIXED
    assert [p.name for p in sliced.slices.profiles] == ["1g.10gb", "2g.20gb"]
    assert sliced.selector == {"nvidia.com/gpu.product": "NVIDIA-A100-80GB-PCIe", "nvidia.com/mig.strategy": "mixed"}
    assert sliced.capacity is not None and (sliced.capacity.gpus_allocatable, sliced.capacity.nodes) == (5, 1)
    # The whole-GPU pool is unchanged: it never sees the MIG node.
    assert pools["cloud-nvidia-a100-80gb"].capacity is not None
    assert pools["cloud-nvidia-a100-80gb"].capacity.gpus_allocatable == 4


def test_single_strategy_counts_nvidia_gpu_as_slices() -> None:
    single = nvidia_node("mig-1", "NVIDIA-A100-SXM4-80GB-MIG-1g.10gb", 9728, 7)
    pool = pools_of(single)["cloud-nvidia-a100-80gb-mig-1g-10gb"]
    assert pool.slices is not None and pool.slices.strategy == MIG_SINGLE and pool.gpu_resource == "nvidia.com/gpu"
    assert pool.gpu is not None and pool.gpu.key == "nvidia-a100-80gb"
    assert pool.capacity is not None and pool.capacity.gpus_allocatable == 7


def test_requested_slices_reduce_the_free_count() -> None:
    mig = mixed_node("mig-0", **{"1g.10gb": 3})
    built = build_pools([], [node_view(mig)], {"mig-0": 2}) or []
    assert built[0].capacity is not None and built[0].capacity.free_gpus_per_node == (1,)


def test_manifest_profiles_narrow_the_offer_and_nodes_fill_the_rest() -> None:
    mig = mixed_node("mig-0", **{"1g.10gb": 3, "2g.20gb": 2})
    pool = pools_of(
        mig, manifests=[manifest("mig", {"type": "nvidia-a100-80gb", "slices": {"profiles": ["2g.20gb"]}})]
    )["mig"]
    assert pool.slices is not None and [p.name for p in pool.slices.profiles] == ["2g.20gb"]
    assert pool.gpu_resource == "nvidia.com/mig-2g.20gb"
    assert pool.capacity is not None and pool.capacity.gpus_allocatable == 2
    detected = pools_of(mig, manifests=[manifest("auto", {"slices": {}})])["auto"]
    assert detected.gpu is not None and detected.gpu.key == "nvidia-a100-80gb"
    assert detected.slices is not None and [p.name for p in detected.slices.profiles] == ["1g.10gb", "2g.20gb"]


def test_a_profile_the_gpu_lacks_is_refused_naming_the_field_and_the_fix() -> None:
    bad = manifest("mig", {"type": "nvidia-a100-80gb", "slices": {"profiles": ["1g.5gb"]}})
    with pytest.raises(UnknownGpuTypeError, match=r"spec.gpu.slices.profiles: 1g.5gb .* use 1g.10gb, 1g.20gb"):
        pool_from_manifest(bad)
    no_mig = manifest("l4", {"type": "nvidia-l4", "slices": {"profiles": ["1g.10gb"]}})
    with pytest.raises(UnknownGpuTypeError, match="nvidia-l4 cannot be split into MIG slices"):
        pool_from_manifest(no_mig)


def test_schema_rejects_bad_profile_names_and_another_resource() -> None:
    with pytest.raises(ValueError, match="profiles"):
        manifest("bad", {"slices": {"profiles": ["1g-10gb"]}})
    with pytest.raises(ValueError, match=r"leave gpu\.resourceName at nvidia\.com/gpu"):
        manifest("bad", {"resourceName": "amd.com/gpu", "slices": {}})


def test_dra_pool_counts_slices_from_labels() -> None:
    labels = {**MIXED_LABELS, "nvidia.com/mig-1g.10gb.count": "4"}
    dra_node = node("dra-0", labels)
    gpu = {"type": "nvidia-a100-80gb", "slices": {"profiles": ["1g.10gb"], "deviceClassName": "mig.nvidia.com"}}
    pool = pools_of(dra_node, manifests=[manifest("dra", gpu)])["dra"]
    assert pool.slices is not None and pool.slices.device_class == "mig.nvidia.com" and pool.slices.resources == ()
    assert pool.capacity is not None and pool.capacity.gpus_allocatable == 4
