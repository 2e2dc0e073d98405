"""Hybrid placement over time on the emulated cluster: a full edge pool spills to the cloud pool and status
says so; freed capacity brings replicas back only after the hold (hysteresis); capacity that oscillates
faster than the hold moves nothing; replicas stuck unschedulable move on after the timeout; a deleted
pool's replicas move at once.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from genai_operator.planning.hysteresis import Timings
from support.operator_harness import DEPLOYMENTS, OperatorHarness, condition, eventually, example, is_ready

pytestmark = pytest.mark.integration
NODES = "v1/nodes"
PODS = "v1/pods"
POOLS = "genaiops.dev/v1alpha1/placementpools"


def shares(harness: OperatorHarness) -> dict[str, int]:
    md = harness.md("ml", "assistant")
    return {p["pool"]: p["replicas"] for p in md["status"].get("placement") or [] if p["replicas"]}


def edge_replicas(harness: OperatorHarness) -> int:
    dep = harness.cluster.get(DEPLOYMENTS, "ml", "assistant-edge-orin")
    return int(dep["spec"]["replicas"]) if dep else 0


def foreign_gpu_pod(node: str) -> dict[str, Any]:
    """Someone else's workload holding the Jetson's only GPU."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "camera-ai", "namespace": "vision"},
        "spec": {
            "nodeName": node,
            "containers": [{"name": "c", "image": "vision:1", "resources": {"limits": {"nvidia.com/gpu": 1}}}],
        },
        "status": {"phase": "Running"},
    }


def set_ready(harness: OperatorHarness, name: str, ready: bool) -> None:
    node = copy.deepcopy(harness.cluster.get(NODES, None, name))
    for cond in node["status"]["conditions"]:
        if cond["type"] == "Ready":
            cond["status"] = "True" if ready else "False"
    harness.cluster.apply(node)


async def test_full_edge_spills_then_returns_after_the_hold() -> None:
    timings = Timings(unschedulable_seconds=60, return_seconds=2.0)
    async with OperatorHarness(options={"timings": timings, "capacity_debounce_seconds": 0.2}) as harness:
        harness.cluster.apply(foreign_gpu_pod("edge-orin-02"))
        await harness.create(example("llama-3b-autoscaled-hybrid.yaml"))
        md = await eventually(lambda: (o := harness.md("ml", "assistant")) and is_ready(o) and o)
        assert shares(harness) == {"edge-orin": 1, "cloud-l4": 2}
        edge = next(p for p in md["status"]["placement"] if p["pool"] == "edge-orin")
        assert "room for 1" in edge["reason"]
        assert "cloud-l4=2" in condition(md, "Placed")["message"]

        harness.cluster.delete(PODS, "vision", "camera-ai")  # the edge GPU is free again
        md = await eventually(lambda: (o := harness.md("ml", "assistant"))["status"].get("placementPendingSince") and o)
        assert shares(harness) == {"edge-orin": 1, "cloud-l4": 2}  # held: capacity must stay free first
        assert "better split" in condition(md, "Placed")["message"]
        await eventually(lambda: shares(harness) == {"edge-orin": 2, "cloud-l4": 1}, timeout=10)
        await eventually(lambda: is_ready(harness.md("ml", "assistant")))
        assert "placementPendingSince" not in harness.md("ml", "assistant")["status"]


async def test_capacity_oscillating_faster_than_the_hold_moves_nothing() -> None:
    timings = Timings(unschedulable_seconds=60, return_seconds=2.5)
    async with OperatorHarness(options={"timings": timings, "capacity_debounce_seconds": 0.1}) as harness:
        await harness.create(example("llama-3b-autoscaled-hybrid.yaml"))
        await eventually(lambda: is_ready(harness.md("ml", "assistant")))
        assert shares(harness) == {"edge-orin": 2, "cloud-l4": 1}
        seen = set()
        for flip in range(10):  # a WAN blip every 0.5 s for 5 s: twice the hold
            set_ready(harness, "edge-orin-02", ready=flip % 2 == 1)
            await asyncio.sleep(0.5)
            seen.add(edge_replicas(harness))
        set_ready(harness, "edge-orin-02", ready=True)
        await asyncio.sleep(1.0)
        assert seen == {2} and shares(harness) == {"edge-orin": 2, "cloud-l4": 1}


async def test_stuck_replicas_spill_after_the_timeout() -> None:
    timings = Timings(unschedulable_seconds=1.0, return_seconds=60)
    async with OperatorHarness(options={"timings": timings}) as harness:
        for name in ("edge-orin-01", "edge-orin-02"):  # GPUs free, but too little memory for the pods
            node = copy.deepcopy(harness.cluster.get(NODES, None, name))
            node["status"]["allocatable"]["memory"] = "1Gi"
            harness.cluster.apply(node)
        await harness.create(example("llama-3b-autoscaled-hybrid.yaml"))
        md = await eventually(
            lambda: (
                (o := harness.md("ml", "assistant"))
                and any(p.get("unschedulableReplicas") for p in o.get("status", {}).get("placement") or [])
                and o
            )
        )
        assert shares(harness)["edge-orin"] == 2
        await eventually(lambda: shares(harness) == {"cloud-l4": 3}, timeout=10)
        md = await eventually(lambda: (o := harness.md("ml", "assistant")) and is_ready(o) and o)
        edge = next(p for p in md["status"]["placement"] if p["pool"] == "edge-orin")
        assert edge["replicas"] == 0  # on standby; it is tried again after the hold (return_seconds)
        assert md["status"]["placementPendingSince"]


async def test_deleted_pool_moves_its_replicas_at_once() -> None:
    async with OperatorHarness(options={"timings": Timings(return_seconds=60)}) as harness:
        await harness.create(example("llama-3b-autoscaled-hybrid.yaml"))
        await eventually(lambda: is_ready(harness.md("ml", "assistant")))
        harness.cluster.delete(POOLS, None, "edge-orin")
        await eventually(lambda: shares(harness) == {"cloud-l4": 3}, timeout=10)
        await eventually(lambda: harness.cluster.get(DEPLOYMENTS, "ml", "assistant-edge-orin") is None)

        md = await eventually(lambda: (o := harness.md("ml", "assistant")) and is_ready(o) and o)
        assert "pool edge-orin does not exist" in " ".join(c["message"] for c in md["status"]["conditions"]) or shares(
            harness
        ) == {"cloud-l4": 3}


async def test_placement_pools_publish_their_capacity() -> None:
    async with OperatorHarness(options={"capacity_debounce_seconds": 0.2}) as harness:
        await harness.create(example("llama-3b-autoscaled-hybrid.yaml"))
        await eventually(lambda: is_ready(harness.md("ml", "assistant")))

        def status(name: str) -> dict[str, Any]:
            return dict(harness.cluster.get(POOLS, None, name).get("status") or {})

        await eventually(lambda: status("edge-orin").get("gpusRequested") == 2)
        edge = status("edge-orin")
        assert (edge["nodes"], edge["gpusTotal"], edge["gpusAllocatable"], edge["gpusFree"]) == (2, 2, 2, 0)
        assert edge["gpuType"] == "nvidia-jetson-agx-orin-64gb"
        l4 = await eventually(lambda: (s := status("cloud-l4")) and s.get("gpusRequested") == 1 and s)
        assert (l4["nodes"], l4["gpusAllocatable"], l4["gpusFree"]) == (2, 8, 7)
        assert condition({"status": l4}, "Ready")["reason"] == "NodesFound"
        store = await eventually(lambda: (s := status("store-cpu")) and s.get("nodes") == 2 and s)
        assert store["gpusTotal"] == 0
        harness.clear_requests()
        await asyncio.sleep(1.0)
        steady = [r for r in harness.writes(exclude=()) if r.resource == "placementpools"]
        assert steady == []  # no rewrite of an unchanged pool status
