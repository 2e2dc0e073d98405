"""The `plan` report: capacity-side advice for replicas that find no node (more GPUs, fragmented free GPUs,
nodes too small, pools without a ready node, autoscaled pools), the table's pools section and summary
line on the sample inventory, `-o json` staying the DESIGN.md section 5 list, and inventories given as
`kubectl get nodes -o json`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.placementpool import PlacementPool
from genai_operator.cli.main import main
from genai_operator.placement.assemble import build_pools
from genai_operator.placement.inventory import node_view
from genai_operator.planning.fleet_report import plan_all
from genai_operator.settings import Settings
from support.node_objects import node_list, nvidia_node
from support.paths import ROOT
from support.plan_contract import PLAN_JSON_KEYS

EXAMPLES = ROOT / "examples"
NODES = EXAMPLES / "inventory" / "nodes.yaml"
POOLS = EXAMPLES / "inventory" / "pools.yaml"


def md(name: str, uri: str, **spec: Any) -> ModelDeployment:
    return ModelDeployment.model_validate(
        {
            "apiVersion": "genaiops.dev/v1alpha1",
            "kind": "ModelDeployment",
            "metadata": {"name": name, "namespace": "ml"},
            "spec": {"model": {"uri": uri}, **spec},
        }
    )


GEMMA_TP4 = {
    "quantization": {"precision": "BF16"},
    "serving": {"maxContextLength": 8192, "maxConcurrentSequences": 8},
    "resources": {"gpu": {"types": ["nvidia-l4"]}},
}


def l4_pools(counts: tuple[int, ...], requested: dict[str, int] | None = None, **kw: Any) -> Any:
    nodes = [node_view(nvidia_node(f"l4-{i}", "NVIDIA-L4", 23034, c, **kw)) for i, c in enumerate(counts)]
    return build_pools([], nodes, requested)


def reasons(result: Any) -> list[str]:
    return [r for e in result.entries for r in e["reasons"]]


def test_fragmented_free_gpus_say_which_node_would_make_it_fit() -> None:
    # Other workloads hold 2 GPUs on each 4-GPU node: 4 free, but no node with 4 free.
    pools = l4_pools((4, 4), {"l4-0": 2, "l4-1": 2})
    result = plan_all([md("g", "hf://google/gemma-2-27b-it", **GEMMA_TP4)], pools, Settings())
    assert result.summary.pending == 1
    assert (
        "fits if pool cloud-nvidia-l4 had 1 free node(s) with 4 nvidia-l4 GPUs: its 4 free GPUs are spread over "
        "nodes with at most 2 free each"
    ) in reasons(result)
    assert result.pools[0].gpus_short == 4


def test_replica_larger_than_any_node() -> None:
    seventy = md(
        "big",
        "hf://meta-llama/Llama-3.1-70B-Instruct",
        quantization={"precision": "BF16"},
        serving={"maxContextLength": 4096, "maxConcurrentSequences": 4},
        resources={"gpu": {"types": ["nvidia-l4"]}},
    )
    # gpu.count set: the user's count, on one node, so the advice says no node is large enough.
    pinned = md(
        "big",
        "hf://meta-llama/Llama-3.1-70B-Instruct",
        quantization={"precision": "BF16"},
        serving={"maxContextLength": 4096, "maxConcurrentSequences": 4},
        resources={"gpu": {"types": ["nvidia-l4"], "count": 8}},
    )
    result = plan_all([pinned], l4_pools((4, 4)), Settings())
    assert result.entries[0]["gpusPerReplica"] == 8
    assert (
        "a replica needs 8 nvidia-l4 GPUs on one node but the nodes of pool cloud-nvidia-l4 have at most 4: "
        "fits on nodes with at least 8 nvidia-l4 GPUs"
    ) in reasons(result)
    # gpu.count Auto: the replica becomes a group of two 4-GPU nodes (sizing/multinode.py), placed.
    grouped = plan_all([seventy], l4_pools((4, 4)), Settings())
    entry = grouped.entries[0]
    assert (entry["gpusPerReplica"], entry["gpusPerNode"], entry["nodesPerReplica"], entry["tensorParallel"]) == (
        8,
        4,
        2,
        4,
    )
    assert grouped.summary.pending == 0 and grouped.summary.gpus_used == 8


def _pool(name: str, **spec: Any) -> PlacementPool:
    selector = {"nvidia.com/gpu.product": "NVIDIA-L4"}
    return PlacementPool.model_validate(
        {
            "apiVersion": "genaiops.dev/v1alpha1",
            "kind": "PlacementPool",
            "metadata": {"name": name},
            "spec": {"tier": "Cloud", "nodeSelector": selector, "gpu": {"type": "nvidia-l4"}, **spec},
        }
    )


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ({}, "pool l4 has no ready, schedulable node: 2 replica(s) wait; add nodes with 1 nvidia-l4 GPUs"),
        ({"autoscaled": True}, "2 replica(s) wait for pool l4 to add nodes (autoscaled)"),
    ],
)
def test_pools_without_a_ready_node(spec: dict[str, Any], needle: str) -> None:
    nodes = [node_view(nvidia_node("l4-0", "NVIDIA-L4", 23034, 4, unschedulable=True))]
    pools = build_pools([_pool("l4", **spec)], nodes)
    model = md(
        "m",
        "hf://meta-llama/Llama-3.1-8B-Instruct",
        replicas=2,
        quantization={"precision": "BF16"},
        serving={"maxContextLength": 8192, "maxConcurrentSequences": 4},
        placement={"pools": ["l4"]},
    )
    result = plan_all([model], pools, Settings())
    assert any(needle in r for r in reasons(result))
    assert result.summary.waiting == 2 and result.pools[0].waiting == 2 and result.pools[0].gpus_used == 2


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


def test_table_has_a_pools_section_and_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(["plan", "-f", str(EXAMPLES), "--nodes", str(NODES), "--pools", str(POOLS)], capsys)
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("POOL"))
    assert lines[start].split() == [
        "POOL",
        "TIER",
        "GPU",
        "NODES",
        "GPUS",
        "USED",
        "FREE",
        "MAX-FREE/NODE",
        "SHORT",
        "CPU-MEM",
        "USED/FREE",
        "REPLICAS",
    ]
    rows = {
        line.split()[0]: line.split()
        for line in lines[start + 1 :]
        if line and not line.startswith("GPUs") and "MIG slices" not in line
    }
    assert set(rows) == {"cloud-h100", "cloud-l4", "onprem-a100", "onprem-a100-mig", "edge-orin", "store-cpu"}
    # The two MIG examples share the on-prem A100's slices: 1g.10gb each, counted as slices, not GPUs.
    assert rows["onprem-a100-mig"][3:7] == ["1", "5", "2", "3"]
    assert "onprem-a100-mig: MIG slices used 2 of 5 (1g.10gb, 2g.20gb)" in lines
    assert rows["cloud-l4"][:8] == ["cloud-l4", "Cloud", "nvidia-l4", "2", "8", "8", "0", "0"]
    assert rows["edge-orin"][3:7] == ["2", "2", "2", "0"]
    assert rows["store-cpu"][2] == "cpu" and rows["store-cpu"][4] == "-"
    # The 405B example's two-node group added two 8x H100 nodes (examples/inventory/nodes.yaml) and 16 GPUs;
    # the warm-standby example one H100, the streamed 8B two; the MIG examples use slices, not whole GPUs.
    assert lines[-1].startswith("GPUs used 35 of 46, lower bound 35 (ratio 1.00, GPU memory ")
    assert "replicas placed 27, waiting for nodes 0, pending 0; 0 of 20 model(s) do not fit" in lines[-1]


def test_table_without_inventory_has_only_the_summary(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(["plan", "-f", str(EXAMPLES)], capsys)
    assert "POOL" not in out and out.splitlines()[-1].startswith("GPUs used ")


def test_json_stays_the_section5_list(capsys: pytest.CaptureFixture[str]) -> None:
    out = run(["plan", "-f", str(EXAMPLES), "--nodes", str(NODES), "--pools", str(POOLS), "-o", "json"], capsys)
    entries = json.loads(out)
    assert isinstance(entries, list) and all(set(e) == PLAN_JSON_KEYS for e in entries)


def test_inventory_as_kubectl_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    as_json = tmp_path / "nodes.json"
    as_json.write_text(json.dumps(yaml.safe_load(NODES.read_text())))
    base = ["plan", "-f", str(EXAMPLES), "--pools", str(POOLS), "-o", "json", "--nodes"]
    assert run([*base, str(as_json)], capsys) == run([*base, str(NODES)], capsys)


def test_pending_replicas_show_in_the_placement_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nodes = tmp_path / "nodes.yaml"
    nodes.write_text(yaml.safe_dump(node_list(nvidia_node("l4-0", "NVIDIA-L4", 23034, 4))))
    models = tmp_path / "m.yaml"
    models.write_text(
        yaml.safe_dump_all(
            [
                {
                    "apiVersion": "genaiops.dev/v1alpha1",
                    "kind": "ModelDeployment",
                    "metadata": {"name": f"g{i}", "namespace": "ml"},
                    "spec": {"model": {"uri": "hf://google/gemma-2-27b-it"}, **GEMMA_TP4},
                }
                for i in range(2)
            ]
        )
    )
    out = run(["plan", "-f", str(models), "--nodes", str(nodes)], capsys)
    assert "cloud-nvidia-l4=1 (1 without node)" in out
    assert "needs 4 more nvidia-l4 GPUs in pool cloud-nvidia-l4 (1 more node(s) with 4 GPUs)" in out
    assert "1 pending" in out
