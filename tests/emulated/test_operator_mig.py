"""The operator on the emulated cluster with MIG slices: the two small examples land on the one
MIG-partitioned A100 (mig-a100-01, mixed strategy), each pod requesting one nvidia.com/mig-1g.10gb slice
that the emulated scheduler counts as an extended resource; both are Ready with status.sizing.slice, and
the PlacementPool reports the slices requested."""

from __future__ import annotations

import pytest

from support.operator_harness import OperatorHarness, eventually, example, is_ready

pytestmark = pytest.mark.integration

SLICE = "nvidia.com/mig-1g.10gb"


@pytest.fixture
async def harness() -> OperatorHarness:  # type: ignore[misc]
    async with OperatorHarness(options={"resync_seconds": 1.0}) as h:
        yield h


async def test_two_small_models_share_one_mig_gpu(harness: OperatorHarness) -> None:
    await harness.create(example("mig-llama-1b.yaml"))
    await harness.create(example("mig-qwen-1.5b.yaml"))
    for name in ("mig-llama-1b", "mig-qwen-1-5b"):
        md = await eventually(lambda n=name: (o := harness.md("ml", n)) and is_ready(o) and o, timeout=30)
        sizing = md["status"]["sizing"]
        assert sizing["gpuType"] == "nvidia-a100-80gb-mig-1g.10gb" and sizing["tensorParallel"] == 1
        assert sizing["slice"] == {"profile": "1g.10gb", "resource": SLICE, "memoryBytes": 9728 * 2**20}
        assert [p["pool"] for p in md["status"]["placement"]] == ["onprem-a100-mig"]
    pods = [
        p
        for p in harness.cluster.list("v1/pods", "ml")
        if p["metadata"]["labels"].get("genaiops.dev/pool") == "onprem-a100-mig"
    ]
    assert len(pods) == 2 and {p["spec"]["nodeName"] for p in pods} == {"mig-a100-01"}
    assert all(p["spec"]["containers"][0]["resources"]["limits"][SLICE] == "1" for p in pods)
    pool = await eventually(
        lambda: (
            (o := harness.cluster.get("genaiops.dev/v1alpha1/placementpools", None, "onprem-a100-mig"))
            and (o.get("status") or {}).get("gpusRequested") == 2
            and o
        ),
        timeout=30,
    )
    assert (pool["status"]["gpusTotal"], pool["status"]["gpusFree"]) == (5, 3)
