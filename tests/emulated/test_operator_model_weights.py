"""The operator on the emulated cluster with model weights (issue 8): a failing model-loader init container
surfaces as ModelLoaded=False with the loader's reason and a Warning event, and recovers; adding a LoRA
adapter replaces the Deployment only (no other child is written or re-created); a Shared cache pool gets
its ReadWriteMany claim mounted by every replica, and the claim's phase arrives with Ready (two status
writes); a NodeLocal pool runs a StatefulSet with a claim per
replica bound on its node; a revision change on a full pool rolls out one replica at a time and says so."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from support.operator_harness import DEPLOYMENTS, OperatorHarness, condition, eventually, example, is_ready

pytestmark = pytest.mark.integration

SERVICES = "v1/services"
PVCS = "v1/persistentvolumeclaims"
STATEFULSETS = "apps/v1/statefulsets"
PODS = "v1/pods"
UNAUTHORIZED = (
    "Unauthorized: model hf://meta-llama/Llama-3.1-8B-Instruct: the Hub answered 401; set "
    "spec.model.credentialsSecret to a Secret with key HF_TOKEN that can read this repository"
)


@pytest.fixture
async def harness() -> OperatorHarness:  # type: ignore[misc]
    async with OperatorHarness(options={"resync_seconds": 1.0}) as h:
        yield h


def pool(name: str, base: str, cache: dict[str, Any], harness: OperatorHarness) -> None:
    """A PlacementPool on the same nodes as the inventory's `base` pool, with a model cache."""
    source = harness.cluster.get("genaiops.dev/v1alpha1/placementpools", None, base)
    assert source is not None
    harness.cluster.apply(
        {
            "apiVersion": "genaiops.dev/v1alpha1",
            "kind": "PlacementPool",
            "metadata": {"name": name},
            "spec": {**source["spec"], "cache": cache},
        }
    )


def on_pool(manifest: dict[str, Any], pool_name: str) -> dict[str, Any]:
    out = copy.deepcopy(manifest)
    out["spec"]["placement"] = {"pools": [pool_name]}
    out["spec"]["resources"] = {"gpu": {"types": ["nvidia-l4"]}}
    return out


async def test_loader_failure_is_model_loaded_false_with_its_reason_then_recovers(harness: OperatorHarness) -> None:
    harness.cluster.fail_init_container("ml", "llama-8b-", exit_code=1, reason="Error", message=UNAUTHORIZED)
    await harness.create(example("llama-8b-bf16-l4.yaml"))
    failing = await eventually(
        lambda: (
            condition(harness.md("ml", "llama-8b"), "ModelLoaded").get("reason") == "Unauthorized"
            and harness.md("ml", "llama-8b")
        )
    )
    loaded = condition(failing, "ModelLoaded")
    assert loaded["status"] == "False"
    assert "the Hub answered 401; set spec.model.credentialsSecret" in loaded["message"]
    assert condition(failing, "Ready")["status"] == "False"

    def warnings() -> list[dict[str, Any]]:
        return [
            e
            for e in harness.cluster.list("v1/events", "ml")
            if e.get("reason") == "Unauthorized" and e.get("type") == "Warning"
        ]

    await eventually(warnings)  # Kopf posts events after the status write
    await asyncio.sleep(1.5)  # a resync and the kubelet's restarts later: still one event, no storm
    assert len(warnings()) == 1 and "model loader" in warnings()[0]["message"]
    harness.cluster.clear_init_failures()  # the user fixed the Secret; the kubelet's next restart succeeds
    md = await eventually(lambda: (o := harness.md("ml", "llama-8b")) and is_ready(o) and o)
    assert condition(md, "ModelLoaded")["status"] == "True"
    assert condition(md, "ModelLoaded")["reason"] == "Loaded"


async def test_loading_shows_while_the_loader_runs(harness: OperatorHarness) -> None:
    harness.cluster.hold_init_containers("ml", "llama-8b-")
    await harness.create(example("llama-8b-bf16-l4.yaml"))
    md = await eventually(
        lambda: (
            "fetching the model on 2 pod(s)"
            in condition(harness.md("ml", "llama-8b"), "ModelLoaded").get("message", "")
            and harness.md("ml", "llama-8b")
        ),
        timeout=20,
    )
    assert condition(md, "ModelLoaded")["status"] == "False" and condition(md, "ModelLoaded")["reason"] == "Loading"
    assert condition(md, "Ready")["status"] == "False"
    harness.cluster.release_init_containers()
    await eventually(lambda: is_ready(harness.md("ml", "llama-8b")))


async def test_adding_an_adapter_replaces_only_the_deployment(harness: OperatorHarness) -> None:
    await harness.create(example("llama-8b-lora-adapters.yaml"))
    await eventually(lambda: is_ready(harness.md("ml", "llama-8b-lora")))
    service_uid = harness.cluster.get(SERVICES, "ml", "llama-8b-lora")["metadata"]["uid"]  # type: ignore[index]
    deployment_uid = harness.cluster.get(DEPLOYMENTS, "ml", "llama-8b-lora-cloud-l4")["metadata"]["uid"]  # type: ignore[index]
    harness.clear_requests()
    adapters = example("llama-8b-lora-adapters.yaml")["spec"]["adapters"]
    await harness.patch_spec(
        "ml", "llama-8b-lora", {"adapters": [*adapters, {"name": "legal", "uri": "hf://acme/legal"}]}
    )
    await eventually(lambda: is_ready(harness.md("ml", "llama-8b-lora")))
    await asyncio.sleep(0.5)
    children = [r for r in harness.writes() if r.resource not in ("modeldeployments",)]
    assert [(r.verb, r.resource, r.name) for r in children] == [("update", "deployments", "llama-8b-lora-cloud-l4")]
    dep = harness.cluster.get(DEPLOYMENTS, "ml", "llama-8b-lora-cloud-l4")
    assert dep is not None and dep["metadata"]["uid"] == deployment_uid
    args = dep["spec"]["template"]["spec"]["containers"][0]["args"]
    assert any(a.startswith("legal=/model-cache/") for a in args) and args[args.index("--max-loras") + 1] == "3"
    assert harness.cluster.get(SERVICES, "ml", "llama-8b-lora")["metadata"]["uid"] == service_uid  # type: ignore[index]


async def test_shared_cache_claim_is_created_bound_and_mounted_by_every_replica(harness: OperatorHarness) -> None:
    pool("l4-shared", "cloud-l4", {"mode": "Shared", "storageClassName": "nfs-rwx", "keepRevisions": 2}, harness)
    harness.clear_requests()
    await harness.create(on_pool(example("llama-8b-bf16-l4.yaml"), "l4-shared"))
    md = await eventually(lambda: (o := harness.md("ml", "llama-8b")) and is_ready(o) and o)
    # The claim bound between the two status writes: its phase came with Ready, not in a write of its own.
    status_writes = [r for r in harness.writes() if r.subresource == "status" and r.resource == "modeldeployments"]
    assert len(status_writes) == 2
    claim = harness.cluster.get(PVCS, "ml", "llama-8b-l4-shared-cache")
    assert claim is not None and claim["status"]["phase"] == "Bound"
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["metadata"]["ownerReferences"][0]["uid"] == md["metadata"]["uid"]  # goes with the model
    pods = [p for p in harness.cluster.list(PODS, "ml") if p["metadata"]["name"].startswith("llama-8b-l4-shared")]
    assert len(pods) == 2
    for pod in pods:
        volume = next(v for v in pod["spec"]["volumes"] if v["name"] == "model-cache")
        assert volume["persistentVolumeClaim"]["claimName"] == "llama-8b-l4-shared-cache"
    assert md["status"]["placement"][0]["cache"] == "Shared (claim llama-8b-l4-shared-cache, Bound)"
    assert await _quiet(harness) == []  # converged: the claim is not rewritten on resync


async def test_claim_binding_while_loading_waits_for_the_ready_write(
    harness: OperatorHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Readiness is held back (the loaders wait) while the claim binds: that news must ride on the Ready write.
    # The hold is long here so a slow machine cannot turn it into a write of its own.
    monkeypatch.setattr("genai_operator.controller.reconciler.PROGRESS_HOLD_SECONDS", 30.0)
    pool("l4-shared", "cloud-l4", {"mode": "Shared", "storageClassName": "nfs-rwx"}, harness)
    harness.cluster.hold_init_containers("ml", "llama-8b-")
    harness.clear_requests()
    await harness.create(on_pool(example("llama-8b-bf16-l4.yaml"), "l4-shared"))
    await eventually(
        lambda: (
            (harness.cluster.get(PVCS, "ml", "llama-8b-l4-shared-cache") or {}).get("status", {}).get("phase")
            == "Bound"
        )
    )
    await asyncio.sleep(1.0)  # several child-event windows: the bound claim has been seen
    md = harness.md("ml", "llama-8b")
    assert md["status"]["placement"][0]["cache"] == "Shared (claim llama-8b-l4-shared-cache, Pending)"
    harness.cluster.release_init_containers()
    md = await eventually(lambda: (o := harness.md("ml", "llama-8b")) and is_ready(o) and o)
    assert md["status"]["placement"][0]["cache"] == "Shared (claim llama-8b-l4-shared-cache, Bound)"
    status_writes = [r for r in harness.writes() if r.subresource == "status" and r.resource == "modeldeployments"]
    assert len(status_writes) == 2


async def test_node_local_cache_runs_a_statefulset_with_a_claim_per_replica(harness: OperatorHarness) -> None:
    harness.cluster.apply(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "local-storage"},
            "provisioner": "kubernetes.io/no-provisioner",
            "volumeBindingMode": "WaitForFirstConsumer",
        }
    )
    pool("l4-local", "cloud-l4", {"mode": "NodeLocal", "storageClassName": "local-storage", "size": "60Gi"}, harness)
    await harness.create(on_pool(example("llama-8b-bf16-l4.yaml"), "l4-local"))
    md = await eventually(lambda: (o := harness.md("ml", "llama-8b")) and is_ready(o) and o)
    sts = harness.cluster.get(STATEFULSETS, "ml", "llama-8b-l4-local")
    assert sts is not None and harness.cluster.get(DEPLOYMENTS, "ml", "llama-8b-l4-local") is None
    claims = sorted(c["metadata"]["name"] for c in harness.cluster.list(PVCS, "ml"))
    assert claims == ["model-cache-llama-8b-l4-local-0", "model-cache-llama-8b-l4-local-1"]
    for claim in harness.cluster.list(PVCS, "ml"):
        assert claim["status"]["phase"] == "Bound"
        assert claim["metadata"]["annotations"]["volume.kubernetes.io/selected-node"]  # bound on its node
    entry = md["status"]["placement"][0]
    assert entry["rollout"] == "OneAtATime" and entry["cache"].startswith("NodeLocal")
    assert condition(md, "ModelLoaded")["status"] == "True"


async def test_revision_change_on_a_full_pool_rolls_one_at_a_time(harness: OperatorHarness) -> None:
    manifest = example("llama-8b-bf16-l4.yaml")
    manifest["spec"]["replicas"] = 4  # cloud-l4 has 8 GPUs; the other examples are not here, so fill it
    manifest["spec"]["resources"]["gpu"]["count"] = 2
    await harness.create(manifest)
    await eventually(lambda: is_ready(harness.md("ml", "llama-8b")))
    dep = harness.cluster.get(DEPLOYMENTS, "ml", "llama-8b-cloud-l4")
    assert dep is not None and dep["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}
    await harness.patch_spec(
        "ml",
        "llama-8b",
        {"model": {"uri": "hf://meta-llama/Llama-3.1-8B-Instruct@v2", "credentialsSecret": "hf-token"}},
    )
    md = await eventually(
        lambda: (
            (o := harness.md("ml", "llama-8b"))
            and o["status"].get("observedGeneration") == o["metadata"]["generation"]
            and o
        )
    )
    dep = harness.cluster.get(DEPLOYMENTS, "ml", "llama-8b-cloud-l4")
    assert dep is not None and dep["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 0, "maxUnavailable": 1}
    assert md["status"]["placement"][0]["rollout"] == "OneAtATime"
    rolling = condition(md, "Progressing")
    assert rolling["reason"] == "RollingOut" and "replaced one at a time" in rolling["message"]
    md = await eventually(
        lambda: (
            (o := harness.md("ml", "llama-8b"))
            and is_ready(o)
            and condition(o, "Progressing")["reason"] == "Stable"
            and o
        ),
        timeout=30,
    )
    pods = [p for p in harness.cluster.list(PODS, "ml") if p["metadata"]["name"].startswith("llama-8b-cloud-l4")]
    assert len(pods) == 4  # the old replicas were replaced, none left behind


async def _quiet(harness: OperatorHarness) -> list[Any]:
    harness.clear_requests()
    await asyncio.sleep(1.5)  # more than a resync interval
    return harness.writes()
