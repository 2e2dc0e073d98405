"""Golden files: the multi-document YAML of every object rendered for each examples/*.yaml, planned with
the PlacementPools of examples/inventory/pools.yaml when the example names pools (else with no
inventory), rendered offline (no owner uid). An example that scales gets one file per autoscaler backend
it can use (`<stem>.hpa.yaml`, `<stem>.keda.yaml`, with a ServiceMonitor), so every metric x backend x
engine combination of the examples is pinned. Every object is also validated strictly. Regenerate with
UPDATE_GOLDEN=1 after an intended change and review the diff."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from genai_operator.api.enums import ScalingBackend
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.placementpool import PlacementPool
from genai_operator.placement.assemble import build_pools
from genai_operator.planning.plan import plan_model_deployment
from genai_operator.render import render_children
from support.paths import GOLDEN, ROOT
from support.render_fixtures import validate_all

EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
POOLS = ROOT / "examples" / "inventory" / "pools.yaml"


def variants(path: Path) -> list[tuple[str, ScalingBackend | None]]:
    """(golden file name, backend) pairs of one example."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    scaling = doc["spec"].get("scaling")
    if scaling is None:
        return [(f"{path.stem}.yaml", None)]
    out = [(f"{path.stem}.keda.yaml", ScalingBackend.KEDA)]
    if scaling.get("minReplicas", 1) >= 1:
        out.insert(0, (f"{path.stem}.hpa.yaml", ScalingBackend.HPA))
    return out


CASES = [(path, name, backend) for path in EXAMPLES for name, backend in variants(path)]


def render_example(path: Path, backend: ScalingBackend | None) -> str:
    documents = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    pool_docs = yaml.safe_load_all(POOLS.read_text(encoding="utf-8"))
    manifests = [PlacementPool.model_validate(d) for d in pool_docs if d]
    objects = []
    for document in documents:
        md = ModelDeployment.model_validate(document)
        names_pools = md.spec.placement is not None and md.spec.placement.pools is not None
        decision = plan_model_deployment(md, build_pools(manifests, None) if names_pools else None)
        objects.extend(
            render_children(
                md,
                decision,
                owner_uid=None,
                autoscaler=backend,
                service_monitor=backend is not None,
                routing=md.spec.routing is not None,
            )
        )
    validate_all(objects)
    return yaml.safe_dump_all(objects, sort_keys=False)


def test_every_example_has_a_golden_file_and_no_golden_is_stale() -> None:
    assert EXAMPLES, "examples/*.yaml not found"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        return
    expected = {name for _, name, _ in CASES}
    present = {p.name for p in GOLDEN.glob("*.yaml")}
    assert expected - present == set(), "missing golden files: run with UPDATE_GOLDEN=1"
    assert present - expected == set(), "golden files for no example: delete them"


@pytest.mark.parametrize(("example", "name", "backend"), CASES, ids=[c[1] for c in CASES])
def test_rendered_example_matches_golden(example: Path, name: str, backend: ScalingBackend | None) -> None:
    rendered = render_example(example, backend)
    golden = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
        return
    assert golden.exists(), f"{golden} is missing: run with UPDATE_GOLDEN=1"
    assert rendered == golden.read_text(encoding="utf-8"), (
        f"{example.name} renders differently from {golden.relative_to(ROOT)}; if the change is intended, "
        f"regenerate with UPDATE_GOLDEN=1 and review the diff"
    )
