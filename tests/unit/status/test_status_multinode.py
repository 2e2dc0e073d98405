"""Multi-node replicas in status and plan output: status.sizing's group fields (nodesPerReplica,
pipelineParallel, gpusPerNode, gpusPerReplica for the whole group), Ready from the LeaderWorkerSet's
readyReplicas, the LeaderWorkerSetCrdMissing condition without the LWS API (planning/group_choice.py,
status/group_status.py), and the `plan` table and JSON for the 405B example."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from genai_operator.api.enums import Engine
from genai_operator.cli.main import main
from genai_operator.planning.group_choice import LWS_CRD_MISSING, LWS_MANIFEST, group_api_missing
from genai_operator.settings import Settings
from genai_operator.status.group_status import missing_api_status
from genai_operator.status.model_deployment import build_status
from support.paths import ROOT
from support.render_fixtures import H100, assign, decision, manifest, pool, sizing

GROUP = replace(sizing(H100, gpus=8, tp=8), nodes=2)
EXAMPLE = ROOT / "examples" / "llama-405b-bf16-multinode.yaml"
NOW = "2026-01-01T00:00:00Z"


def group_decision(replicas: int = 1) -> Any:
    return decision(assign(pool("cloud-h100", gpu=H100), replicas, Engine.VLLM, GROUP))


def conditions(status: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in status["conditions"]}


def test_status_sizing_reports_the_group() -> None:
    status = build_status(manifest("big"), group_decision(), {}, generation=1, now=NOW, settings=Settings())
    sizing = status["sizing"]
    assert (sizing["gpusPerReplica"], sizing["gpusPerNode"], sizing["tensorParallel"]) == (16, 8, 8)
    assert (sizing["nodesPerReplica"], sizing["pipelineParallel"]) == (2, 2)
    assert status["placement"][0]["gpusPerReplica"] == 16


def test_one_node_status_has_no_group_fields() -> None:
    placed = decision(assign(pool("cloud-h100", gpu=H100), 1, Engine.VLLM, sizing(H100)))
    status = build_status(manifest("small"), placed, {}, generation=1, now=NOW, settings=Settings())
    assert not {"nodesPerReplica", "pipelineParallel", "gpusPerNode"} & set(status["sizing"])


def test_ready_comes_from_the_leaderworkerset_groups() -> None:
    lws = {
        "kind": "LeaderWorkerSet",
        "metadata": {"name": "big-cloud-h100", "generation": 1},
        "spec": {"replicas": 2},
        "status": {"observedGeneration": 1, "replicas": 2, "readyReplicas": 2, "updatedReplicas": 2},
    }
    observed = {("LeaderWorkerSet", "big-cloud-h100"): lws}
    status = build_status(manifest("big"), group_decision(2), observed, generation=1, now=NOW, settings=Settings())
    assert status["readyReplicas"] == 2 and conditions(status)["Ready"]["status"] == "True"
    lws["status"] = {}  # no LWS controller: nothing reports ready, and status says so
    status = build_status(manifest("big"), group_decision(2), observed, generation=1, now=NOW, settings=Settings())
    assert status["readyReplicas"] == 0 and conditions(status)["Ready"]["status"] == "False"


def test_without_the_lws_api_placed_is_false_and_names_the_install() -> None:
    assert group_api_missing(group_decision(), lws_available=True) is None
    one_node = decision(assign(pool("cloud-h100", gpu=H100), 1, Engine.VLLM, sizing(H100)))
    assert group_api_missing(one_node, lws_available=False) is None
    missing = group_api_missing(group_decision(), lws_available=False)
    assert missing is not None and missing[0] == LWS_CRD_MISSING and LWS_MANIFEST in missing[1]
    status = missing_api_status(manifest("big"), group_decision(), *missing, generation=3, now=NOW, settings=Settings())
    placed = conditions(status)["Placed"]
    assert (placed["status"], placed["reason"]) == ("False", LWS_CRD_MISSING)
    assert "leaderworkerset.x-k8s.io/v1" in placed["message"] and "2 nodes x 8 GPUs" in placed["message"]
    assert conditions(status)["Ready"]["status"] == "False" and conditions(status)["Degraded"]["status"] == "True"
    assert conditions(status)["SpecValid"]["status"] == "True"
    assert status["sizing"]["nodesPerReplica"] == 2 and "endpoint" not in status


def test_plan_shows_the_group(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "-f", str(EXAMPLE)]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("ml/llama-405b"))
    assert "2 nodes x 8x nvidia-h100-80gb" in line and "8 PP 2" in line
    assert main(["plan", "-f", str(EXAMPLE), "-o", "json"]) == 0
    entry = json.loads(capsys.readouterr().out)[0]
    assert (entry["gpusPerReplica"], entry["gpusPerNode"], entry["nodesPerReplica"], entry["pipelineParallel"]) == (
        16,
        8,
        2,
        2,
    )
