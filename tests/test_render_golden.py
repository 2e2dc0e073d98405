"""Golden files: the multi-document YAML of every object rendered for each examples/*.yaml, planned with
the PlacementPools of examples/inventory/pools.yaml when the example names pools (else with no
inventory), rendered offline (no owner uid) with an HPA when the example scales. Every object is also
validated strictly. Regenerate with UPDATE_GOLDEN=1 after an intended change and review the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from genai_operator.api.enums import ScalingBackend
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.placementpool import PlacementPool
from genai_operator.placement.assemble import build_pools
from genai_operator.planning import plan_model_deployment
from genai_operator.render import render_children
from test_render_support import validate_all

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
POOLS = ROOT / "examples" / "inventory" / "pools.yaml"
GOLDEN = ROOT / "tests" / "golden"


def render_example(path: Path) -> str:
    documents = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    pool_docs = yaml.safe_load_all(POOLS.read_text(encoding="utf-8"))
    manifests = [PlacementPool.model_validate(d) for d in pool_docs if d]
    objects = []
    for document in documents:
        md = ModelDeployment.model_validate(document)
        names_pools = md.spec.placement is not None and md.spec.placement.pools is not None
        decision = plan_model_deployment(md, build_pools(manifests, None) if names_pools else None)
        backend = ScalingBackend.HPA if md.spec.scaling is not None else None
        objects.extend(render_children(md, decision, owner_uid=None, autoscaler=backend))
    validate_all(objects)
    return yaml.safe_dump_all(objects, sort_keys=False)


def test_every_example_has_a_golden_file() -> None:
    assert EXAMPLES, "examples/*.yaml not found"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        return
    missing = [p.stem for p in EXAMPLES if not (GOLDEN / f"{p.stem}.yaml").exists()]
    assert not missing, f"no golden file for {missing}: run with UPDATE_GOLDEN=1"


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_rendered_example_matches_golden(example: Path) -> None:
    rendered = render_example(example)
    golden = GOLDEN / f"{example.stem}.yaml"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
        return
    assert golden.exists(), f"{golden} is missing: run with UPDATE_GOLDEN=1"
    assert rendered == golden.read_text(encoding="utf-8"), (
        f"{example.name} renders differently from {golden.relative_to(ROOT)}; if the change is intended, "
        f"regenerate with UPDATE_GOLDEN=1 and review the diff")
