"""The operator's incremental pool capacity (planning/capacity.py) agrees with recounting everything: random GPU
requests, over-requested, unready and cordoned nodes, a pass's own pods given back, nodes re-read only
when marked, pods finishing and going away, and the peak GPUs in use between two looks."""

from __future__ import annotations

import random
from collections.abc import Iterable

from genai_operator.api.loading import read_documents, split_manifests
from genai_operator.placement.assemble import pool_layout, with_capacity
from genai_operator.placement.inventory import NodeView, node_view
from genai_operator.planning.capacity import GpuUsage, PoolsWithCapacity
from support.node_objects import l4
from support.paths import ROOT

Pods = dict[str, list[tuple[tuple[str, str], int]]]  # node -> [(owner, GPUs)], as the pods index holds them


def inventory() -> tuple[list[NodeView], list[object]]:
    _, pools, nodes = split_manifests(read_documents(ROOT / "examples" / "inventory"))
    extra = [l4(f"l4-{i}", 8 if i % 3 else 4) for i in range(12)]
    extra += [l4("cordoned", unschedulable=True), l4("unready", ready="False"), l4("short", 8, allocatable_gpus=6)]
    return [node_view(n) for n in nodes] + extra, list(pools)


def requested(pods: Pods, without: tuple[str, str] | None = None) -> dict[str, int]:
    out: dict[str, int] = {}
    for node, entries in pods.items():
        for owner, gpus in entries:
            if owner != without:
                out[node] = out.get(node, 0) + gpus
    return out


def refresh(usage: GpuUsage, pods: Pods) -> set[str]:
    return usage.refresh(lambda: list(pods), lambda node: pods.get(node, ()))


def test_matches_a_full_recount_as_pods_come_and_go() -> None:
    rng = random.Random(7)
    nodes, manifests = inventory()
    layout = pool_layout(manifests, nodes)  # type: ignore[arg-type]
    owners = [("ns", f"md-{i}") for i in range(6)]
    pods: Pods = {}
    usage = GpuUsage()
    refresh(usage, pods)
    cached = PoolsWithCapacity(layout, usage)
    for _ in range(300):
        node = rng.choice(nodes).name
        entries = pods.setdefault(node, [])
        if entries and rng.random() < 0.4:
            entries.pop(rng.randrange(len(entries)))  # a pod finished or went away
        else:
            entries.append((rng.choice(owners), rng.choice((1, 1, 2, 4, 9))))  # 9: more than any node has
        if not entries:
            del pods[node]
        usage.mark(node)
        cached.update(refresh(usage, pods), usage.requested)
        assert usage.requested == requested(pods)
        for key in (*owners, ("", "placementpools")):
            expected = with_capacity(layout, requested(pods, without=key))
            assert cached.excluding(usage.of_owner(key), usage.requested) == expected


def test_unmarked_nodes_are_not_reread() -> None:
    pods: Pods = {"a": [(("ns", "x"), 2)]}
    usage = GpuUsage()
    assert refresh(usage, pods) == {"a"} and usage.requested == {"a": 2}
    pods["b"] = [(("ns", "y"), 1)]
    assert refresh(usage, pods) == set() and usage.requested == {"a": 2}  # nobody said b changed
    usage.mark("b")
    assert refresh(usage, pods) == {"b"} and usage.of_owner(("ns", "y")) == {"b": 1}
    del pods["a"]  # its last pod went away
    usage.mark("a")
    assert refresh(usage, pods) == {"a"} and usage.requested == {"b": 1} and not usage.of_owner(("ns", "x"))


def test_no_inventory_means_no_pools() -> None:
    usage = GpuUsage()
    empty: Iterable[str] = ()
    usage.refresh(lambda: empty, lambda node: ())
    assert PoolsWithCapacity(None, usage).excluding({}, {}) is None


def test_peak_remembers_gpus_taken_and_freed_between_two_looks() -> None:
    usage = GpuUsage()
    pods: Pods = {"n1": [(("ns", "a"), 1)]}
    refresh(usage, pods)
    assert usage.take_peak() == {"n1": 1}
    pods["n2"] = [(("vision", ""), 1)]  # someone's pod lands (a plan reads it) ...
    usage.mark("n2")
    refresh(usage, pods)
    del pods["n2"]  # ... and goes away before the next look
    usage.mark("n2")
    refresh(usage, pods)
    assert usage.requested == {"n1": 1}
    assert usage.take_peak() == {"n1": 1, "n2": 1}  # the look still learns n2 had a GPU taken since
    assert usage.take_peak() == {"n1": 1}  # and starts over
