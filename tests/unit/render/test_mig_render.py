"""Models on MIG slices, planned and rendered: the smallest profile that holds a replica, no tensor
parallelism across slices (a model no profile holds is not placed there, with the reason), the slice
resource per strategy, status.sizing.slice, and the DRA ResourceClaimTemplate validated against the
resource.k8s.io/v1 schema of every supported Kubernetes release that serves it (1.34+)."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
from packaging.version import Version

from genai_operator.api.placementpool import PlacementPool
from genai_operator.placement.assemble import build_pools
from genai_operator.placement.inventory import node_view
from genai_operator.placement.types import Pool
from genai_operator.planning.mig_plan import dra_api_missing
from genai_operator.planning.plan import plan_model_deployment
from genai_operator.render.bundle import render_children
from genai_operator.settings import Settings
from genai_operator.status.model_deployment import build_status
from support.node_objects import node, nvidia_node
from support.render_fixtures import DRA_GA, K8S_VERSIONS, by_kind, manifest, render_valid

MIXED = {"nvidia.com/gpu.product": "NVIDIA-A100-80GB-PCIe", "nvidia.com/mig.strategy": "mixed"}


def mig_pool(gpu: dict[str, Any], nodes: list[dict[str, Any]] | None = None) -> Pool:
    pp = PlacementPool.model_validate(
        {
            "apiVersion": "genaiops.dev/v1alpha1",
            "kind": "PlacementPool",
            "metadata": {"name": "mig"},
            "spec": {"tier": "OnPrem", "nodeSelector": MIXED, "gpu": gpu},
        }
    )
    built = build_pools([pp], [node_view(n) for n in nodes] if nodes else None)
    assert built is not None
    return built[0]


def mixed_node(**slices: int) -> dict[str, Any]:
    raw = node("mig-0", {**MIXED, "nvidia.com/gpu.memory": "81920"}, gpus=("nvidia.com/gpu", 0))
    for profile, count in slices.items():
        raw["status"]["allocatable"][f"nvidia.com/mig-{profile}"] = str(count)
        raw["status"]["capacity"][f"nvidia.com/mig-{profile}"] = str(count)
    return raw


def model(uri: str, **serving: Any) -> Any:
    return manifest(
        "small",
        model={"uri": uri},
        engine="VLLM",
        quantization={"precision": "BF16"},
        serving={"maxContextLength": 8192, **serving},
        placement={"pools": ["mig"]},
    )


OFFER = {"type": "nvidia-a100-80gb", "slices": {"profiles": ["3g.40gb", "1g.10gb", "2g.20gb"]}}


def test_the_smallest_profile_that_holds_the_replica_is_chosen() -> None:
    pool = mig_pool(OFFER, [mixed_node(**{"1g.10gb": 3, "2g.20gb": 2, "3g.40gb": 1})])
    small = plan_model_deployment(model("hf://meta-llama/Llama-3.2-1B-Instruct"), [pool], Settings())
    assert small.fits and small.primary is not None
    assert small.primary.sizing.gpu is not None and small.primary.sizing.gpu.key == "nvidia-a100-80gb-mig-1g.10gb"
    # More promised sequences need a larger slice: the next profile up, still one slice (TP 1).
    busy = plan_model_deployment(
        model("hf://meta-llama/Llama-3.2-1B-Instruct", maxConcurrentSequences=48), [pool], Settings()
    )
    assert busy.primary is not None and busy.primary.sizing.gpu is not None
    assert busy.primary.sizing.gpu.key == "nvidia-a100-80gb-mig-2g.20gb" and busy.primary.sizing.tensor_parallel == 1


def test_a_model_no_profile_holds_is_not_placed_and_says_why() -> None:
    pool = mig_pool({"type": "nvidia-a100-80gb", "slices": {"profiles": ["1g.10gb"]}})
    decision = plan_model_deployment(model("hf://Qwen/Qwen2.5-14B-Instruct"), [pool], Settings())
    assert not decision.fits
    assert any("fits no MIG slice offered (largest 1g.10gb" in r and "never combined" in r for r in decision.reasons)
    counted = manifest(
        "tp",
        model={"uri": "hf://meta-llama/Llama-3.2-1B-Instruct"},
        resources={"gpu": {"count": 2}},
        placement={"pools": ["mig"]},
    )
    refused = plan_model_deployment(counted, [pool], Settings())
    assert any("no tensor parallelism across slices" in r for r in refused.reasons)


def test_mixed_strategy_requests_the_profile_resource_and_status_names_the_slice() -> None:
    md = model("hf://meta-llama/Llama-3.2-1B-Instruct")
    decision = plan_model_deployment(md, [mig_pool(OFFER)], Settings())
    objects = render_valid(md, decision)
    container = by_kind(objects, "Deployment")[0]["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["nvidia.com/mig-1g.10gb"] == "1"
    assert "nvidia.com/gpu" not in container["resources"]["limits"]
    assert "--tensor-parallel-size" not in container["args"]
    status = build_status(md, decision, {}, generation=1, now="2026-01-01T00:00:00Z", settings=Settings())
    assert status["sizing"]["slice"] == {
        "profile": "1g.10gb",
        "memoryBytes": 9728 * 2**20,
        "resource": "nvidia.com/mig-1g.10gb",
    }


def test_single_strategy_requests_nvidia_gpu_on_the_slice_product() -> None:
    single = nvidia_node("mig-1", "NVIDIA-A100-SXM4-80GB-MIG-1g.10gb", 9728, 7)
    pools = build_pools([], [node_view(single)]) or []
    md = manifest(
        "small",
        model={"uri": "hf://meta-llama/Llama-3.2-1B-Instruct"},
        engine="VLLM",
        quantization={"precision": "BF16"},
        serving={"maxContextLength": 8192},
    )
    decision = plan_model_deployment(md, pools, Settings())
    spec = by_kind(render_valid(md, decision), "Deployment")[0]["spec"]["template"]["spec"]
    assert spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert spec["nodeSelector"]["nvidia.com/gpu.product"] == "NVIDIA-A100-SXM4-80GB-MIG-1g.10gb"


def test_dra_renders_a_claim_template_selecting_the_profile() -> None:
    gpu = {"type": "nvidia-a100-80gb", "slices": {"profiles": ["1g.10gb"], "deviceClassName": "mig.nvidia.com"}}
    md = model("hf://meta-llama/Llama-3.2-1B-Instruct")
    decision = plan_model_deployment(md, [mig_pool(gpu)], Settings())
    objects = render_valid(md, decision, owner_uid="uid-1")
    (template,) = by_kind(objects, "ResourceClaimTemplate")
    request = template["spec"]["spec"]["devices"]["requests"][0]
    assert request["exactly"]["deviceClassName"] == "mig.nvidia.com" and request["exactly"]["count"] == 1
    assert request["exactly"]["selectors"] == [
        {"cel": {"expression": 'device.attributes["gpu.nvidia.com"].profile == "1g.10gb"'}}
    ]
    pod = by_kind(objects, "Deployment")[0]["spec"]["template"]["spec"]
    assert pod["resourceClaims"] == [{"name": "mig-slice", "resourceClaimTemplateName": template["metadata"]["name"]}]
    resources = pod["containers"][0]["resources"]
    assert resources["claims"] == [{"name": "mig-slice"}] and "nvidia.com/gpu" not in resources["limits"]
    status = build_status(md, decision, {}, generation=1, now="2026-01-01T00:00:00Z", settings=Settings())
    assert status["sizing"]["slice"]["deviceClassName"] == "mig.nvidia.com"


@pytest.mark.parametrize("version", [v for v in K8S_VERSIONS if Version(v) >= DRA_GA])
def test_the_claim_template_is_valid_resource_k8s_io_v1(version: str) -> None:
    gpu = {"type": "nvidia-a100-80gb", "slices": {"profiles": ["2g.20gb"], "deviceClassName": "mig.nvidia.com"}}
    md = model("hf://meta-llama/Llama-3.2-1B-Instruct")
    decision = plan_model_deployment(md, [mig_pool(gpu)], Settings())
    (template,) = by_kind(render_children(md, decision), "ResourceClaimTemplate")
    kubernetes_validate.validate(template, version, strict=True)
    broken = {**template, "spec": {"spec": {"devices": {"requests": [{"name": "x", "deviceClassName": "y"}]}}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, version, strict=True)


def test_a_cluster_without_dra_is_told_what_to_use() -> None:
    gpu = {"type": "nvidia-a100-80gb", "slices": {"profiles": ["1g.10gb"], "deviceClassName": "mig.nvidia.com"}}
    decision = plan_model_deployment(model("hf://meta-llama/Llama-3.2-1B-Instruct"), [mig_pool(gpu)], Settings())
    missing = dra_api_missing(decision, dra_available=False)
    assert missing is not None and missing[0] == "DynamicResourceAllocationMissing"
    assert "spec.gpu.slices.deviceClassName" in missing[1] and "Kubernetes 1.34" in missing[1]
    assert dra_api_missing(decision, dra_available=True) is None
    plain = plan_model_deployment(model("hf://meta-llama/Llama-3.2-1B-Instruct"), [mig_pool(OFFER)], Settings())
    assert dra_api_missing(plain, dra_available=False) is None
