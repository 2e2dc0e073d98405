"""Pool discovery from real-looking Node objects: NVIDIA GPU Feature Discovery labels (product, memory,
`-SHARED` time-sliced products, MIG), the ROCm node labeller's `amd.com/gpu.*` labels (and the older
`beta.` ones), KubeEdge edge nodes and OpenYurt edge workers in node pools; deterministic names, and the
sample inventory in examples/inventory/.
"""

from __future__ import annotations

import random
from typing import Any

import yaml

from genai_operator.api.enums import Tier
from genai_operator.api.placementpool import PlacementPool
from genai_operator.placement.assemble import build_pools
from genai_operator.placement.inventory import node_view
from genai_operator.placement.pools import discover_pools, pool_from_manifest
from genai_operator.placement.types import Pool
from support.node_objects import (
    amd_node,
    kubeedge_orin,
    node,
    nvidia_node,
    openyurt_node,
    time_sliced_node,
)
from support.paths import ROOT

SAMPLE_NODES = ROOT / "examples" / "inventory" / "nodes.yaml"


def pools_of(*nodes: dict[str, Any]) -> dict[str, Pool]:
    built = build_pools([], [node_view(n) for n in nodes]) or []
    return {p.name: p for p in built}


def test_sample_inventory_discovers_a_pool_per_tier_nodepool_and_gpu() -> None:
    items = yaml.safe_load(SAMPLE_NODES.read_text())["items"]
    pools = pools_of(*items)
    assert sorted(pools) == [
        "cloud-nvidia-a100-80gb",
        "cloud-nvidia-a100-80gb-mig",  # mig-a100-01: MIG slices (mixed strategy), a pool of its own
        "cloud-nvidia-h100-80gb",
        "cloud-nvidia-l4",
        "edge-nvidia-jetson-agx-orin-64gb",
        "edge-store-42-cpu",
    ]
    l4 = pools["cloud-nvidia-l4"]
    assert l4.tier == Tier.CLOUD and l4.selector == {"nvidia.com/gpu.product": "NVIDIA-L4"}
    assert l4.capacity is not None and (l4.capacity.nodes, l4.capacity.gpus_allocatable) == (2, 8)
    orin = pools["edge-nvidia-jetson-agx-orin-64gb"]
    # "Orin" names several Jetson modules: the memory label is part of the selector.
    assert orin.selector == {
        "node-role.kubernetes.io/edge": "",
        "nvidia.com/gpu.product": "Orin",
        "nvidia.com/gpu.memory": "62000",
    }
    assert orin.tolerations == ({"key": "node-role.kubernetes.io/edge", "operator": "Exists", "effect": "NoSchedule"},)
    assert orin.arch == "arm64" and orin.capacity is not None and orin.capacity.gpus_allocatable == 2
    store = pools["edge-store-42-cpu"]
    assert store.cpu_only and store.tier == Tier.EDGE and store.arch is None  # one amd64, one arm64 node
    assert store.selector == {"openyurt.io/is-edge-worker": "true", "apps.openyurt.io/nodepool": "store-42"}
    assert all(p.discovered for p in pools.values())


def test_time_sliced_gpus_form_their_own_pool_counted_in_whole_gpus() -> None:
    pools = pools_of(
        time_sliced_node("t4-shared-0", "Tesla-T4", 15360, count=4, slices=4),
        nvidia_node("t4-0", "Tesla-T4", 15360, 4),
    )
    shared, whole = pools["cloud-nvidia-t4-shared"], pools["cloud-nvidia-t4"]
    assert shared.gpu is not None and shared.gpu.key == "nvidia-t4"
    assert shared.selector == {"nvidia.com/gpu.product": "Tesla-T4-SHARED"}
    # 16 slices advertised, 4 GPUs of memory: a model replica needs a GPU's whole memory.
    assert shared.capacity is not None and shared.capacity.gpus_allocatable == 4
    assert shared.capacity.free_gpus_per_node == (4,)
    assert whole.capacity is not None and whole.capacity.nodes == 1 and whole.capacity.gpus_allocatable == 4


def test_shared_product_without_a_replicas_label_derives_slices_from_the_gpu_count() -> None:
    raw = time_sliced_node("mps-0", "NVIDIA-A100-SXM4-80GB", 81920, count=2, slices=3)
    del raw["metadata"]["labels"]["nvidia.com/gpu.replicas"]
    view = node_view(raw)
    assert view.gpu_share == 3 and view.whole_gpus("nvidia.com/gpu") == 2


def test_jetson_modules_of_one_product_split_by_memory_label() -> None:
    pools = pools_of(
        kubeedge_orin("orin-64-a", 62000),
        kubeedge_orin("orin-64-b", 62000),
        kubeedge_orin("orin-32-a", 30536, memory_gib=32),
    )
    assert set(pools) == {"edge-nvidia-jetson-agx-orin-64gb", "edge-nvidia-jetson-agx-orin-32gb"}
    big, small = pools["edge-nvidia-jetson-agx-orin-64gb"], pools["edge-nvidia-jetson-agx-orin-32gb"]
    assert big.capacity is not None and big.capacity.nodes == 2
    assert small.capacity is not None and small.capacity.nodes == 1
    assert small.gpu is not None and small.gpu.key == "nvidia-jetson-agx-orin-32gb"


def test_same_name_for_different_selectors_gets_a_numeric_suffix() -> None:
    # Two JetPack releases report slightly different memory for the same module.
    pools = pools_of(kubeedge_orin("a", 62000), kubeedge_orin("b", 62841))
    assert set(pools) == {"edge-nvidia-jetson-agx-orin-64gb", "edge-nvidia-jetson-agx-orin-64gb-2"}
    assert all(p.capacity is not None and p.capacity.nodes == 1 for p in pools.values())


def test_openyurt_edge_workers_group_by_node_pool() -> None:
    pools = pools_of(
        openyurt_node("s1-0", "store-1"),
        openyurt_node("s1-1", "store-1"),
        openyurt_node("s2-0", "store-2"),
        openyurt_node("loose", None),
    )
    assert set(pools) == {"edge-store-1-cpu", "edge-store-2-cpu", "edge-cpu"}
    assert pools["edge-store-1-cpu"].capacity is not None and pools["edge-store-1-cpu"].capacity.nodes == 2
    assert pools["edge-cpu"].selector == {"openyurt.io/is-edge-worker": "true"}
    # The node-pool-less selector also matches the store nodes: they are edge workers too.
    assert pools["edge-cpu"].capacity is not None and pools["edge-cpu"].capacity.nodes == 4


def test_openyurt_node_pool_with_gpus() -> None:
    raw = nvidia_node(
        "yurt-gpu",
        "NVIDIA-L4",
        23034,
        1,
        labels={"openyurt.io/is-edge-worker": "true", "apps.openyurt.io/nodepool": "factory-7"},
    )
    pools = pools_of(raw)
    assert list(pools) == ["edge-factory-7-nvidia-l4"]
    assert pools["edge-factory-7-nvidia-l4"].selector == {
        "openyurt.io/is-edge-worker": "true",
        "apps.openyurt.io/nodepool": "factory-7",
        "nvidia.com/gpu.product": "NVIDIA-L4",
    }


def test_amd_instinct_nodes_from_the_rocm_node_labeller() -> None:
    pools = pools_of(amd_node("mi300x-0", "AMD_Instinct_MI300X_OAM", "192G", 8))
    pool = pools["cloud-amd-mi300x"]
    assert pool.gpu is not None and pool.gpu.key == "amd-mi300x" and pool.gpu_resource == "amd.com/gpu"
    assert pool.selector == {"amd.com/gpu.product-name": "AMD_Instinct_MI300X_OAM"}
    # The pool's pods tolerate the device plugin's amd.com/gpu taint, so the node counts.
    assert pool.capacity is not None and (pool.capacity.nodes, pool.capacity.gpus_allocatable) == (1, 8)


def test_amd_beta_labels_of_older_labellers() -> None:
    pools = pools_of(amd_node("mi300x-old", "AMD_Instinct_MI300X", "192G", 8, beta=True))
    pool = pools["cloud-amd-mi300x"]
    assert pool.selector == {"beta.amd.com/gpu.product-name": "AMD_Instinct_MI300X"}
    assert pool.capacity is not None and pool.capacity.gpus_allocatable == 8


def test_mig_slices_and_unknown_products() -> None:
    mig = nvidia_node("mig-0", "NVIDIA-A100-SXM4-40GB-MIG-1g.5gb", 4864, 7)
    unknown = nvidia_node("rtx-0", "NVIDIA-GeForce-RTX-4090", 24564, 2)
    pools = pools_of(mig, unknown)
    # A single-strategy MIG node forms a slice pool of its own (never a whole-GPU one): nvidia.com/gpu counts
    # 1g.5gb slices. An unknown product keeps its name.
    assert list(pools) == ["cloud-nvidia-a100-40gb-mig-1g-5gb", "cloud-nvidia-geforce-rtx-4090"]
    sliced = pools["cloud-nvidia-a100-40gb-mig-1g-5gb"]
    assert sliced.slices is not None and [p.name for p in sliced.slices.profiles] == ["1g.5gb"]
    assert sliced.capacity is not None and sliced.capacity.gpus_allocatable == 7
    rtx = pools["cloud-nvidia-geforce-rtx-4090"]
    assert rtx.gpu is None and not rtx.cpu_only
    assert rtx.selector == {"nvidia.com/gpu.product": "NVIDIA-GeForce-RTX-4090"}


def test_discovered_names_do_not_depend_on_node_order() -> None:
    items = yaml.safe_load(SAMPLE_NODES.read_text())["items"] + [
        time_sliced_node("ts", "Tesla-T4", 15360, 1, 2),
        amd_node("amd", "AMD_Instinct_MI300X_OAM", "192G", 8),
        kubeedge_orin("o32", 30536, memory_gib=32),
    ]
    first = discover_pools([node_view(n) for n in items])
    random.Random(3).shuffle(items)
    assert discover_pools([node_view(n) for n in items]) == first


def test_unready_nodes_still_name_pools_but_add_no_capacity() -> None:
    pools = pools_of(nvidia_node("down", "NVIDIA-H100-80GB-HBM3", 81559, 8, ready="Unknown"))
    pool = pools["cloud-nvidia-h100-80gb"]  # the pool keeps its name while its node flaps
    assert pool.capacity is not None and (pool.capacity.nodes, pool.capacity.gpus_allocatable) == (0, 0)


def test_manifest_pool_detects_gpu_from_amd_selector_and_gfd_memory() -> None:
    def manifest(selector: dict[str, str], resource: str = "nvidia.com/gpu") -> PlacementPool:
        return PlacementPool.model_validate(
            {
                "apiVersion": "genaiops.dev/v1alpha1",
                "kind": "PlacementPool",
                "metadata": {"name": "p"},
                "spec": {"tier": "Cloud", "nodeSelector": selector, "gpu": {"resourceName": resource}},
            }
        )

    amd = pool_from_manifest(manifest({"amd.com/gpu.product-name": "AMD_Instinct_MI300X_OAM"}, "amd.com/gpu"))
    assert amd.gpu is not None and amd.gpu.key == "amd-mi300x"
    small = pool_from_manifest(manifest({"nvidia.com/gpu.product": "Orin", "nvidia.com/gpu.memory": "30536"}))
    assert small.gpu is not None and small.gpu.key == "nvidia-jetson-agx-orin-32gb"


def test_plain_cpu_cloud_node_is_a_cpu_pool() -> None:
    pools = pools_of(node("system-0"))
    assert list(pools) == ["cloud-cpu"] and pools["cloud-cpu"].cpu_only
