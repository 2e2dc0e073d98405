"""Status and plan output for tasks and engines: status.sizing carries the task and the engine, SpecValid says
Deprecated (True) with the advice when TGI serves a pool, `plan` shows a TASK column and `-o json` a task, and
placement resolves engine Auto to TEI for embedding and reranking on GPU, CPU and edge pools alike (a pool's
llama.cpp default does not apply to encoders)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from genai_operator.api.enums import Engine, Tier
from genai_operator.api.placementpool import EngineDefaults
from genai_operator.cli.main import main
from genai_operator.planning.plan import plan_model_deployment, resolve_engine
from genai_operator.settings import Settings
from genai_operator.status.events import transition_events
from genai_operator.status.model_deployment import build_status
from support.paths import ROOT
from support.render_fixtures import assign, decision, manifest, pool


def status_for(serving: Engine, **spec: Any) -> dict[str, Any]:
    md = manifest(**spec)
    return build_status(
        md, decision(assign(pool(), engine=serving)), {}, generation=1, now="2026-12-04T00:00:00Z", settings=Settings()
    )


def spec_valid(status: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == "SpecValid")


def test_tgi_is_reported_deprecated_but_valid() -> None:
    cond = spec_valid(status_for(Engine.TGI, engine="TGI"))
    assert cond["status"] == "True" and cond["reason"] == "Deprecated"
    assert "maintenance mode upstream: consider VLLM or SGLang" in cond["message"]
    plain = spec_valid(status_for(Engine.SGLANG, engine="SGLang"))
    assert plain["reason"] == "SpecValid"


def test_a_deprecated_engine_posts_one_warning_event() -> None:
    status = status_for(Engine.TGI, engine="TGI")
    [event] = [e for e in transition_events(None, status, 0) if e.reason == "Deprecated"]
    assert event.type == "Warning" and "consider VLLM or SGLang" in event.message
    assert not [e for e in transition_events(status, status, 0) if e.reason == "Deprecated"]  # steady: silent


def test_status_sizing_names_task_and_engine() -> None:
    status = status_for(Engine.TEI, model={"uri": "hf://BAAI/bge-small-en-v1.5"}, task="TextEmbedding")
    assert status["sizing"]["task"] == "TextEmbedding" and status["sizing"]["engine"] == "TEI"


@pytest.mark.parametrize(
    "target",
    [
        pool(),
        pool("store", Tier.EDGE, gpu=None, cpu_only=True),
        pool("edge", Tier.EDGE, defaults=EngineDefaults(engine=Engine.LLAMA_CPP)),
    ],
    ids=["gpu", "cpu-edge", "edge-llamacpp-default"],
)
def test_auto_serves_encoders_on_tei_everywhere(target: Any) -> None:
    md = manifest(model={"uri": "hf://BAAI/bge-reranker-base"}, task="Reranking")
    assert resolve_engine(md.spec, target) == Engine.TEI
    placed = plan_model_deployment(md, [target])
    assert placed.fits, placed.reasons
    assert placed.assignments[0].engine == Engine.TEI


def test_auto_never_picks_sglang_unless_the_pool_says_so() -> None:
    md = manifest()
    assert resolve_engine(md.spec, pool()) == Engine.VLLM
    assert resolve_engine(md.spec, pool(defaults=EngineDefaults(engine=Engine.SGLANG))) == Engine.SGLANG


def test_plan_table_and_json_show_the_task(capsys: pytest.CaptureFixture[str]) -> None:
    examples = ROOT / "examples"
    inventory = ["--nodes", str(examples / "inventory/nodes.yaml"), "--pools", str(examples / "inventory/pools.yaml")]
    assert main(["plan", "-f", str(examples), *inventory]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["NAMESPACE/NAME", "TASK", "ENGINE"]
    rows = {line.split()[0]: line.split()[1:3] for line in table[1:] if line.startswith("stores/rag-")}
    assert rows == {
        "stores/rag-chat": ["TextGeneration", "LlamaCpp"],
        "stores/rag-embed": ["TextEmbedding", "TEI"],
        "stores/rag-rerank": ["Reranking", "TEI"],
    }
    assert main(["plan", "-f", str(examples / "qwen-7b-sglang.yaml"), *inventory, "-o", "json"]) == 0
    [entry] = json.loads(capsys.readouterr().out)
    assert (entry["task"], entry["engine"], entry["fits"]) == ("TextGeneration", "SGLang", True)
