"""Pool capacity from nodes: allocatable against capacity and requested GPUs, unready and cordoned nodes
left out, taints against the pool's tolerations (and the GPU taint GPU pools tolerate), per-node free
memory of CPU pools, replicas_that_fit, and the label index agreeing with a plain scan of every node.
"""

from __future__ import annotations

import sys

import pytest

from genai_operator.api.enums import Tier
from genai_operator.api.loading import read_documents, split_manifests
from genai_operator.formats.quantity import GIB
from genai_operator.placement.assemble import build_pools
from genai_operator.placement.inventory import (
    NodeIndex,
    NodeView,
    node_in_pool,
    node_view,
    pool_capacity,
    replicas_that_fit,
)
from genai_operator.placement.pools import discover_pools, pool_from_manifest, with_detected_gpu
from genai_operator.placement.types import Pool, PoolCapacity
from genai_operator.sizing.overhead import cpu_budget_bytes
from support.node_objects import kubeedge_orin, l4, node, nvidia_node, openyurt_node
from support.paths import ROOT

L4 = {"nvidia.com/gpu.product": "NVIDIA-L4"}
GPU_POOL = Pool(name="l4", tier=Tier.CLOUD, node_selector=tuple(L4.items()))


def test_allocatable_below_capacity_and_requested_gpus() -> None:
    nodes = [l4("a", 8, allocatable_gpus=7), l4("b", 4)]  # one of a's GPUs failed its health check
    cap = pool_capacity(GPU_POOL, nodes, {"a": 3, "b": 9, "elsewhere": 2})
    assert (cap.nodes, cap.gpus_total, cap.gpus_allocatable) == (2, 12, 11)
    assert cap.gpus_requested == 3 + 4  # more requested than allocatable counts as full, not negative
    assert cap.gpus_free == 4 and cap.free_gpus_per_node == (4, 0) and cap.max_gpus_per_node == 4


@pytest.mark.parametrize(
    ("kw", "counted"),
    [
        ({}, True),
        ({"ready": "False"}, False),
        ({"ready": "Unknown"}, False),
        ({"unschedulable": True}, False),
    ],
)
def test_unready_and_cordoned_nodes_add_no_capacity(kw: dict[str, object], counted: bool) -> None:
    nodes = [l4("a"), l4("b", **kw)]
    cap = pool_capacity(GPU_POOL, nodes)
    assert cap.nodes == (2 if counted else 1) and cap.gpus_allocatable == (8 if counted else 4)


TRAINING = {"key": "dedicated", "value": "training", "effect": "NoSchedule"}
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}


@pytest.mark.parametrize(
    ("taints", "tolerations", "member"),
    [
        ([GPU_TAINT], [], True),  # GPU pools carry the device plugin's toleration
        ([GPU_TAINT, TRAINING], [], False),
        ([GPU_TAINT, TRAINING], [{"key": "dedicated", "operator": "Equal", "value": "training"}], True),
        ([TRAINING], [{"key": "dedicated", "operator": "Equal", "value": "inference"}], False),
        ([TRAINING], [{"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}], False),
        ([TRAINING], [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}], True),
        ([TRAINING], [{"operator": "Exists"}], True),  # tolerates everything
        ([{"key": "spot", "value": "true", "effect": "PreferNoSchedule"}], [], True),
        ([{"key": "maintenance", "effect": "NoExecute"}], [], False),
    ],
)
def test_taints_against_pool_tolerations(
    taints: list[dict[str, str]], tolerations: list[dict[str, str]], member: bool
) -> None:
    view = l4("a", taints=taints)
    pool = Pool(name="l4", tier=Tier.CLOUD, node_selector=tuple(L4.items()), tolerations=tuple(tolerations))
    assert node_in_pool(view, pool) is member
    assert pool_capacity(pool, [view]).nodes == (1 if member else 0)


def test_cpu_pools_do_not_tolerate_the_gpu_taint() -> None:
    view = l4("a")
    cpu_pool = Pool(name="any-cpu", tier=Tier.CLOUD, cpu_only=True)
    assert not node_in_pool(view, cpu_pool)


def test_edge_taint_needs_the_edge_toleration() -> None:
    view = node_view(kubeedge_orin("orin", 62000))
    selector = (("node-role.kubernetes.io/edge", ""),)
    bare = Pool(name="e", tier=Tier.EDGE, node_selector=selector)
    tolerant = Pool(
        name="e",
        tier=Tier.EDGE,
        node_selector=selector,
        tolerations=({"key": "node-role.kubernetes.io/edge", "operator": "Exists", "effect": "NoSchedule"},),
    )
    assert not node_in_pool(view, bare) and node_in_pool(view, tolerant)


def test_cpu_pool_tracks_free_memory_per_node() -> None:
    nodes = [node_view(openyurt_node(f"s{i}", "store-1", memory_gib=gib)) for i, gib in enumerate((16, 32))]
    [pool] = discover_pools(nodes)
    cap = pool_capacity(pool, nodes)
    assert cap.free_memory_bytes_per_node == tuple(
        sorted((cpu_budget_bytes(n.memory_bytes) for n in nodes), reverse=True)
    )
    # 6 GiB replicas: 2 on the 16 GiB node (14.x GiB budget) and 4 on the 32 GiB one, not 2 x (32 // 6).
    assert replicas_that_fit(cap, 0, 6 * GIB) == 2 + 4


def test_replicas_that_fit_never_straddles_nodes() -> None:
    cap = PoolCapacity(nodes=3, free_gpus_per_node=(3, 3, 2))
    assert replicas_that_fit(cap, 1, 0) == 8
    assert replicas_that_fit(cap, 2, 0) == 3
    assert replicas_that_fit(cap, 4, 0) == 0
    legacy = PoolCapacity(nodes=2, max_memory_bytes_per_node=16 * GIB)  # no per-node figures
    assert replicas_that_fit(legacy, 0, 5 * GIB) == 6


def _brute_members(pool: Pool, nodes: list[NodeView]) -> list[str]:
    return [n.name for n in nodes if node_in_pool(n, pool)]


def test_label_index_agrees_with_scanning_every_node() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    import plan_scale

    nodes = [node_view(n) for n in plan_scale.synthetic_nodes(600, seed=11)]
    sample = [node_view(n) for _, n in read_documents(str(ROOT / "examples/inventory/nodes.yaml"))]
    _, manifests, _ = split_manifests(read_documents(str(ROOT / "examples/inventory/pools.yaml")))
    for inventory, pools in ((nodes, discover_pools(nodes)), (sample, [pool_from_manifest(m) for m in manifests])):
        index = NodeIndex(inventory)
        for pool in pools:
            assert [n.name for n in index.members(pool)] == _brute_members(pool, inventory), pool.name
        # build_pools (index, members found once) == the per-pool scans it replaces.
        fast = build_pools([], inventory) if pools and pools[0].discovered else build_pools(manifests, inventory)
        slow = []
        for pool in pools:
            detected = with_detected_gpu(pool, inventory)
            slow.append((detected.name, detected.gpu, detected.arch, pool_capacity(detected, inventory)))
        assert [(p.name, p.gpu, p.arch, p.capacity) for p in fast or []] == slow


def test_node_view_reads_kubectl_output() -> None:
    raw = nvidia_node("gpu-1", "NVIDIA-H100-80GB-HBM3", 81559, 8, allocatable_gpus=7)
    view = node_view(raw)
    assert view.gpus == (("nvidia.com/gpu", 7),) and view.gpus_capacity == (("nvidia.com/gpu", 8),)
    assert view.ready and view.schedulable and view.arch == "amd64" and view.gpu_share == 1
    assert view.taints == (("nvidia.com/gpu", "present", "NoSchedule"),)
    assert view.memory_bytes == 64 * GIB - 512 * 1024 * 1024 and view.cpu_millis == 15750
    plain = node_view(node("cpu-1"))
    assert plain.gpus == () and plain.whole_gpus("nvidia.com/gpu") == 0
