"""The operator on the emulated cluster: create -> children + Ready, status contract, spec update, drift and
deletion of children restored, garbage collection, restart without duplicates, invalid specs, API write
counts (children + 2 on create, zero on resync), and Ready following the rollout without the child-event window.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from genai_sandbox.process import free_port
from support.operator_harness import DEPLOYMENTS, MD, OperatorHarness, condition, eventually, example, is_ready, quiet

pytestmark = pytest.mark.integration

SERVICES = "v1/services"
PDBS = "policy/v1/poddisruptionbudgets"


@pytest.fixture
async def harness() -> OperatorHarness:  # type: ignore[misc]
    async with OperatorHarness(options={"resync_seconds": 1.0}) as h:
        yield h


async def test_create_converges_to_children_and_ready_status(harness: OperatorHarness) -> None:
    harness.clear_requests()
    await harness.create(example("llama-8b-bf16-l4.yaml"))
    md = await eventually(lambda: (o := harness.md("ml", "llama-8b")) and is_ready(o) and o)
    status = md["status"]
    assert status["replicas"] == 2 and status["readyReplicas"] == 2
    assert status["selector"] == "genaiops.dev/model-deployment=llama-8b"
    assert status["endpoint"] == "http://llama-8b.ml.svc:8000/v1"
    assert status["sizing"]["gpuType"] == "nvidia-l4" and status["sizing"]["precision"] == "BF16"
    assert status["placement"] == [{**status["placement"][0], "pool": "cloud-l4", "replicas": 2, "readyReplicas": 2}]
    for cond in status["conditions"]:
        assert set(cond) == {"type", "status", "reason", "message", "lastTransitionTime", "observedGeneration"}
    assert {c["type"]: c["status"] for c in status["conditions"]} == {
        "SpecValid": "True",
        "Placed": "True",
        "Ready": "True",
        "Progressing": "False",
        "Degraded": "False",
        "ModelLoaded": "True",
    }
    dep = harness.cluster.get(DEPLOYMENTS, "ml", "llama-8b-cloud-l4")
    assert dep is not None
    owner = dep["metadata"]["ownerReferences"][0]
    assert owner["uid"] == md["metadata"]["uid"] and owner["controller"] is True
    assert dep["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "genai-operator"
    assert harness.cluster.get(SERVICES, "ml", "llama-8b") and harness.cluster.get(PDBS, "ml", "llama-8b")
    # Budget: one write per child (Deployment, Service, PDB) plus at most two status writes.
    writes = Counter((r.verb, r.resource, r.subresource) for r in harness.writes())
    children = (
        writes[("create", "deployments", None)]
        + writes[("create", "services", None)]
        + writes[("create", "poddisruptionbudgets", None)]
    )
    assert children == 3
    assert sum(writes.values()) <= children + 2 + 1, writes  # + the user's own create
    assert await quiet(harness, 1.5) == []  # a resync of a converged object writes nothing


async def test_spec_update_patches_children_and_observes_generation(harness: OperatorHarness) -> None:
    await harness.create(example("llama-8b-bf16-l4.yaml"))
    await eventually(lambda: is_ready(harness.md("ml", "llama-8b")))
    await harness.patch_spec("ml", "llama-8b", {"replicas": 3, "serving": {"maxContextLength": 4096}})
    md = await eventually(
        lambda: (o := harness.md("ml", "llama-8b")) and is_ready(o) and o["status"]["replicas"] == 3 and o
    )
    assert md["metadata"]["generation"] == 2 and md["status"]["observedGeneration"] == 2
    dep = harness.cluster.get(DEPLOYMENTS, "ml", "llama-8b-cloud-l4")
    assert dep["spec"]["replicas"] == 3
    args = " ".join(dep["spec"]["template"]["spec"]["containers"][0].get("args", []))
    assert "4096" in args


async def test_drifted_and_deleted_children_are_restored(harness: OperatorHarness) -> None:
    await harness.create(example("llama-8b-bf16-l4.yaml"))
    await eventually(lambda: is_ready(harness.md("ml", "llama-8b")))
    dep = harness.cluster.get(DEPLOYMENTS, "ml", "llama-8b-cloud-l4")
    uid = dep["metadata"]["uid"]
    dep["spec"]["replicas"] = 7
    dep["spec"]["template"]["spec"]["containers"][0]["image"] = "evil/image:1"
    harness.cluster.apply(dep)
    await eventually(lambda: harness.cluster.get(DEPLOYMENTS, "ml", "llama-8b-cloud-l4")["spec"]["replicas"] == 2)
    restored = harness.cluster.get(DEPLOYMENTS, "ml", "llama-8b-cloud-l4")
    assert restored["spec"]["template"]["spec"]["containers"][0]["image"] != "evil/image:1"
    assert restored["metadata"]["uid"] == uid  # patched in place, not recreated
    harness.cluster.delete(SERVICES, "ml", "llama-8b")
    await eventually(lambda: harness.cluster.get(SERVICES, "ml", "llama-8b"))


async def test_deleting_the_model_deployment_collects_children(harness: OperatorHarness) -> None:
    await harness.create(example("llama-8b-bf16-l4.yaml"))
    await eventually(lambda: is_ready(harness.md("ml", "llama-8b")))
    harness.cluster.delete(MD, "ml", "llama-8b")
    await eventually(lambda: not harness.cluster.list(DEPLOYMENTS, "ml") and not harness.cluster.list(SERVICES, "ml"))
    assert harness.cluster.emulator.recorded_requests(verb="delete", resource="deployments") == []  # GC, not us


async def test_dropping_a_pool_deletes_its_deployment_only(harness: OperatorHarness) -> None:
    await harness.create(example("llama-3b-autoscaled-hybrid.yaml"))
    await eventually(lambda: is_ready(harness.md("ml", "assistant")))
    assert harness.cluster.get(DEPLOYMENTS, "ml", "assistant-cloud-l4") is not None
    await harness.patch_spec("ml", "assistant", {"placement": {"pools": ["edge-orin"], "spillover": False}})
    await eventually(lambda: harness.cluster.get(DEPLOYMENTS, "ml", "assistant-cloud-l4") is None)
    assert harness.cluster.get(DEPLOYMENTS, "ml", "assistant-edge-orin")["spec"]["replicas"] == 3


async def test_objects_we_do_not_own_are_never_touched(harness: OperatorHarness) -> None:
    foreign = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "llama-8b", "namespace": "ml", "labels": {"team": "other"}},
        "spec": {"ports": [{"port": 80}]},
    }
    harness.cluster.apply(foreign)
    await harness.create(example("llama-8b-bf16-l4.yaml"))
    await eventually(lambda: harness.cluster.get(DEPLOYMENTS, "ml", "llama-8b-cloud-l4"))
    await asyncio.sleep(1.0)
    svc = harness.cluster.get(SERVICES, "ml", "llama-8b")
    assert [p["port"] for p in svc["spec"]["ports"]] == [80] and "ownerReferences" not in svc["metadata"]
    assert not [r for r in harness.writes() if r.resource == "services" and r.verb in ("update", "patch", "delete")]


async def test_invalid_spec_reports_spec_valid_false_without_a_retry_storm(harness: OperatorHarness) -> None:
    manifest = example("llama-8b-bf16-l4.yaml")
    manifest["spec"]["model"] = {"uri": "hf://acme/unknown-model"}
    await harness.create(manifest)
    md = await eventually(lambda: (o := harness.md("ml", "llama-8b")) and condition(o, "SpecValid") and o)
    cond = condition(md, "SpecValid")
    assert cond["status"] == "False" and cond["reason"] == "InvalidSpec"
    assert "spec.model.parameters" in cond["message"] and "8B" in cond["message"]
    assert harness.cluster.list(DEPLOYMENTS, "ml") == []
    assert await quiet(harness, 2.0) == []  # resyncs find nothing to write: no storm
    events = harness.cluster.list("v1/events", "ml")
    invalid = [e for e in events if e.get("reason") == "InvalidSpec" and e.get("type") == "Warning"]
    assert len(invalid) == 1, (
        invalid
    )  # SpecValid says it; Degraded, turning True for the same reason, does not repeat it
    # Reported by this operator (`kubectl describe` shows the source), not by Kopf's defaults.
    assert invalid[0]["source"]["component"] == invalid[0]["reportingComponent"] == "genai-operator"
    assert invalid[0]["metadata"]["name"].startswith("genai-operator-")
    await harness.patch_spec("ml", "llama-8b", {"model": {"uri": "hf://acme/unknown-model", "parameters": "8B"}})
    await eventually(lambda: is_ready(harness.md("ml", "llama-8b")))


async def test_restart_mid_reconcile_converges_without_duplicates(harness: OperatorHarness) -> None:
    await harness.stop()
    harness.clear_requests()
    manifests = [example(n) for n in ("llama-8b-bf16-l4.yaml", "mistral-7b-tgi.yaml", "qwen-1.5b-gguf-edge-cpu.yaml")]
    await harness.start()
    for manifest in manifests:
        await harness.create(manifest)
    await asyncio.sleep(0.05)
    await harness.stop()  # stopped while creating children
    await harness.start()
    for ns, name in (("ml", "llama-8b"), ("ml", "mistral-tgi"), ("stores", "qwen-edge")):
        await eventually(lambda ns=ns, name=name: is_ready(harness.md(ns, name)))
    created = Counter(
        (r.resource, r.namespace)
        for r in harness.writes()
        if r.verb == "create" and r.status == 201 and r.resource != "modeldeployments"
    )
    existing = Counter(
        (res.rsplit("/", 1)[1], o["metadata"]["namespace"])
        for res in (DEPLOYMENTS, SERVICES, PDBS)
        for o in harness.cluster.list(res)
    )
    assert created == existing  # every successful create is an object that still exists: none twice
    assert len(harness.cluster.list(DEPLOYMENTS)) == 3


async def test_restart_with_existing_objects_resyncs_without_writes(harness: OperatorHarness) -> None:
    for name in ("llama-8b-bf16-l4.yaml", "llama-3b-autoscaled-hybrid.yaml"):
        await harness.create(example(name))
    await eventually(lambda: is_ready(harness.md("ml", "llama-8b")) and is_ready(harness.md("ml", "assistant")))
    await harness.stop()
    harness.clear_requests()
    await harness.start()
    await asyncio.sleep(2.0)
    assert harness.writes() == []


async def test_transient_api_errors_and_dropped_watches_are_survived(harness: OperatorHarness) -> None:
    emulator = harness.cluster.emulator
    emulator.fail_next(2, 500, method="POST", resource="deployments")
    emulator.fail_next(1, 429, method="POST", resource="services")
    emulator.fail_next(1, 409, method="PATCH", resource="modeldeployments")
    emulator.fail_next(1, 503, method="PATCH", resource="modeldeployments")
    await harness.create(example("llama-8b-bf16-l4.yaml"))
    await asyncio.sleep(0.2)
    emulator.drop_watches()
    await eventually(lambda: is_ready(harness.md("ml", "llama-8b")), timeout=30)
    failed = [r for r in harness.writes() if r.status and r.status >= 400]
    assert {r.status for r in failed} >= {500, 429}
    assert len(harness.cluster.list(DEPLOYMENTS, "ml")) == 1
    # After the dropped watches, changes still arrive: a drifted child is restored.
    dep = harness.cluster.get(DEPLOYMENTS, "ml", "llama-8b-cloud-l4")
    dep["spec"]["replicas"] = 9
    harness.cluster.apply(dep)
    await eventually(lambda: harness.cluster.get(DEPLOYMENTS, "ml", "llama-8b-cloud-l4")["spec"]["replicas"] == 2)


async def test_switching_backend_replaces_the_autoscaler() -> None:
    async with OperatorHarness(with_keda=True) as harness:
        manifest = example("llama-3b-autoscaled-hybrid.yaml")
        manifest["spec"]["scaling"]["backend"] = "HPA"
        await harness.create(manifest)
        hpa = "autoscaling/v2/horizontalpodautoscalers"
        scaled = "keda.sh/v1alpha1/scaledobjects"
        await eventually(lambda: harness.cluster.get(hpa, "ml", "assistant"))
        assert harness.cluster.get(scaled, "ml", "assistant") is None
        await harness.patch_spec("ml", "assistant", {"scaling": {"backend": "KEDA"}})
        await eventually(
            lambda: harness.cluster.get(scaled, "ml", "assistant") and not harness.cluster.get(hpa, "ml", "assistant")
        )
        md = await eventually(lambda: (o := harness.md("ml", "assistant")) and condition(o, "AutoscalerReady") and o)
        assert condition(md, "AutoscalerReady")["status"] == "True"


async def test_keda_requested_without_keda_reports_autoscaler_not_ready(harness: OperatorHarness) -> None:
    manifest = example("llama-3b-autoscaled-hybrid.yaml")
    manifest["spec"]["scaling"]["backend"] = "KEDA"
    await harness.create(manifest)
    md = await eventually(lambda: (o := harness.md("ml", "assistant")) and is_ready(o) and o)  # serving works
    cond = condition(md, "AutoscalerReady")
    assert cond["status"] == "False" and cond["reason"] == "KEDANotInstalled"
    assert "scaling.backend: HPA" in cond["message"]


async def test_metrics_and_liveness_endpoints() -> None:
    import urllib.request

    port = free_port()
    async with OperatorHarness(options={"metrics_port": port, "metrics_host": "127.0.0.1"}) as harness:
        await harness.create(example("llama-8b-bf16-l4.yaml"))
        await eventually(lambda: is_ready(harness.md("ml", "llama-8b")))

        def fetch(path: str) -> tuple[int, str]:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
                return response.status, response.read().decode()

        status, _body = await asyncio.to_thread(fetch, "/healthz")
        assert status == 200
        _, text = await asyncio.to_thread(fetch, "/metrics")
        assert 'genai_operator_reconcile_total{result="changed"}' in text
        assert "genai_operator_reconcile_duration_seconds_bucket" in text
        assert 'genai_operator_api_writes_total{kind="Deployment",verb="POST"} 1.0' in text
        assert 'genai_operator_modeldeployments{condition="Ready",status="True"} 1.0' in text
        assert 'genai_operator_gpus_requested{pool="cloud-l4"} 2.0' in text


async def test_ready_does_not_wait_out_the_child_event_window() -> None:
    # A window (and a capacity re-plan delay) far longer than the whole scenario: Ready must come from the
    # rollout event itself.
    async with OperatorHarness(
        options={"child_event_window_seconds": 30.0, "capacity_debounce_seconds": 30.0}
    ) as harness:
        harness.clear_requests()
        await harness.create(example("llama-8b-bf16-l4.yaml"))
        await eventually(lambda: is_ready(harness.md("ml", "llama-8b")), timeout=10)
        status_writes = [r for r in harness.writes() if r.subresource == "status" and r.resource == "modeldeployments"]
        assert len(status_writes) == 2  # planned, then Ready
