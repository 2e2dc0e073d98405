"""Autoscaling on the emulated cluster: an autoscaler's /scale writes drive the pool split and are never
reverted, scale to zero and back (status says so), a missing wake-up signal keeps one replica and says
why, and ServiceMonitors appear only where the Prometheus Operator is installed.
"""

from __future__ import annotations

import asyncio

import pytest

from genai_operator.api.resources import MODEL_DEPLOYMENTS
from support.operator_harness import DEPLOYMENTS, OperatorHarness, condition, eventually, example, is_ready

pytestmark = pytest.mark.integration
SCALED_OBJECTS = "keda.sh/v1alpha1/scaledobjects"
SERVICE_MONITORS = "monitoring.coreos.com/v1/servicemonitors"


async def scale(harness: OperatorHarness, namespace: str, name: str, replicas: int) -> None:
    """What KEDA's HPA does: write spec.replicas through the /scale subresource."""
    assert harness.client is not None
    await harness.client.patch(MODEL_DEPLOYMENTS, namespace, name, {"spec": {"replicas": replicas}}, "scale")


async def test_scale_to_zero_and_back_without_reverting_the_autoscaler() -> None:
    async with OperatorHarness(with_keda=True, with_prometheus_operator=True) as harness:
        await harness.create(example("qwen-7b-scale-to-zero.yaml"))
        md = await eventually(lambda: (o := harness.md("ml", "qwen-7b")) and is_ready(o) and o)
        so = harness.cluster.get(SCALED_OBJECTS, "ml", "qwen-7b")
        assert so["spec"]["minReplicaCount"] == 0 and [t["name"] for t in so["spec"]["triggers"]] == [
            "kv-cache-usage",
            "wake-up",
        ]
        assert condition(md, "AutoscalerReady")["status"] == "True"
        assert harness.cluster.get(SERVICE_MONITORS, "ml", "qwen-7b") is not None
        harness.clear_requests()

        await scale(harness, "ml", "qwen-7b", 0)
        md = await eventually(lambda: (o := harness.md("ml", "qwen-7b")) and o["status"]["replicas"] == 0 and o)
        ready = condition(md, "Ready")
        assert (ready["status"], ready["reason"]) == ("False", "ScaledToZero")
        assert harness.cluster.get(DEPLOYMENTS, "ml", "qwen-7b-cloud-l4")["spec"]["replicas"] == 0

        await scale(harness, "ml", "qwen-7b", 2)
        md = await eventually(
            lambda: (o := harness.md("ml", "qwen-7b")) and o["status"]["replicas"] == 2 and is_ready(o) and o
        )
        assert harness.cluster.get(DEPLOYMENTS, "ml", "qwen-7b-cloud-l4")["spec"]["replicas"] == 2
        await asyncio.sleep(1.0)
        assert harness.md("ml", "qwen-7b")["spec"]["replicas"] == 2
        # The operator wrote status and Deployments, never the ModelDeployment's spec (the autoscaler owns it).
        md_writes = [r for r in harness.writes() if r.resource == "modeldeployments" and r.subresource != "status"]
        assert all(r.subresource == "scale" for r in md_writes), md_writes


async def test_scale_to_zero_without_a_wake_up_signal_keeps_one_replica() -> None:
    async with OperatorHarness(with_keda=True) as harness:
        manifest = example("qwen-7b-scale-to-zero.yaml")
        del manifest["spec"]["scaling"]["wakeUp"]
        await harness.create(manifest)
        md = await eventually(lambda: (o := harness.md("ml", "qwen-7b")) and is_ready(o) and o)
        cond = condition(md, "AutoscalerReady")
        assert (cond["status"], cond["reason"]) == ("False", "NoWakeUpSignal")
        assert "scaling.wakeUp.query" in cond["message"]
        assert harness.cluster.get(SCALED_OBJECTS, "ml", "qwen-7b")["spec"]["minReplicaCount"] == 1


async def test_no_service_monitor_without_the_prometheus_operator() -> None:
    async with OperatorHarness(with_keda=True) as harness:
        await harness.create(example("qwen-7b-scale-to-zero.yaml"))
        await eventually(lambda: is_ready(harness.md("ml", "qwen-7b")))
        # The API does not even exist here; the operator never tried to write one.
        assert harness.cluster.emulator.recorded_requests(verb="create", resource="servicemonitors") == []
        assert not any(r.resource == "servicemonitors" for r in harness.writes())


async def test_keda_disabled_by_setting_is_neither_watched_nor_used() -> None:
    from genai_operator.settings import Settings

    options = {"settings": Settings(keda_enabled=False)}
    async with OperatorHarness(with_keda=True, options=options) as harness:
        await harness.create(example("llama-3b-autoscaled-hybrid.yaml"))  # backend: Auto
        await eventually(lambda: harness.cluster.get("autoscaling/v2/horizontalpodautoscalers", "ml", "assistant"))
        assert harness.cluster.list(SCALED_OBJECTS) == []
        # Not even a watch or list: a chart with keda.enabled=false grants no RBAC for keda.sh.
        assert harness.cluster.emulator.recorded_requests(resource="scaledobjects") == []
