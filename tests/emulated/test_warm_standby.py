"""Warm standby on the emulated cluster: KEDA keeps one replica; its ScaledObject's Active condition (flipped
here as KEDA would) idle past warmStandby.idleSeconds puts the pod's fake vLLM to sleep through the API
server's pod proxy, active wakes it; status.standby, the WarmStandby condition and the Events follow; a
failing engine is reported and retried with backoff, not in a storm; a converged standby makes no call.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from genai_operator.formats.timestamps import to_stamp
from support.operator_harness import OperatorHarness, condition, eventually, example, is_ready, quiet

pytestmark = pytest.mark.integration
SCALED_OBJECTS = "keda.sh/v1alpha1/scaledobjects"
NAME = "qwen-7b-standby"


def manifest() -> dict[str, Any]:
    doc = example("qwen-7b-warm-standby.yaml")
    doc["spec"]["scaling"]["warmStandby"]["idleSeconds"] = 1
    return doc


def standby(h: OperatorHarness) -> dict[str, Any]:
    return dict((h.md("ml", NAME).get("status") or {}).get("standby") or {})


def keda_says(h: OperatorHarness, active: bool, last_active_seconds_ago: float | None = None) -> None:
    stamp = None if last_active_seconds_ago is None else to_stamp(time.time() - last_active_seconds_ago)
    h.cluster.emulator.set_scaled_object_active("ml", NAME, active, last_active_time=stamp)


def event_reasons(h: OperatorHarness) -> list[str]:
    return [e.get("reason", "") for e in h.cluster.list("v1/events", "ml") if NAME in str(e.get("involvedObject"))]


async def ready_pod(h: OperatorHarness) -> str:
    await eventually(lambda: is_ready(h.md("ml", NAME)))
    pods = [p["metadata"]["name"] for p in h.cluster.list("v1/pods", "ml") if p["metadata"]["name"].startswith(NAME)]
    assert len(pods) == 1, pods
    return pods[0]


async def test_idle_puts_the_standby_replica_to_sleep_and_active_wakes_it() -> None:
    async with OperatorHarness(with_keda=True) as h:
        await h.create(manifest())
        pod = await ready_pod(h)
        assert h.cluster.get(SCALED_OBJECTS, "ml", NAME)["spec"]["minReplicaCount"] == 1
        # KEDA has not reported yet: nothing happens, and the status says what it waits for.
        await eventually(lambda: standby(h).get("state") == "Unknown")
        assert h.cluster.emulator.engine_calls("ml") == []

        keda_says(h, False, last_active_seconds_ago=0)  # just went idle: the idle period runs first
        await eventually(lambda: standby(h).get("state") == "WaitingForIdle")
        await eventually(lambda: h.cluster.emulator.sleeping_pods("ml") == [pod], timeout=10)
        status = await eventually(lambda: (s := standby(h)).get("state") == "Asleep" and s)
        assert status["sleepingPods"] == [pod] and status["sleepingReplicas"] == 1
        assert status["hostMemoryBytesPerReplica"] > 4 * 1024**3 and "lastSleepTime" in status
        cond = condition(h.md("ml", NAME), "WarmStandby")
        assert (cond["status"], cond["reason"]) == ("True", "Asleep")
        (call,) = h.cluster.emulator.engine_calls("ml")
        assert (call.method, call.endpoint, call.params, call.pod) == ("POST", "sleep", {"level": "1"}, pod)
        await eventually(lambda: "Sleeping" in event_reasons(h))
        # Asleep and converged: no call to the engine, no write.
        assert await quiet(h, 1.0) == [] and len(h.cluster.emulator.engine_calls("ml")) == 1

        keda_says(h, True, last_active_seconds_ago=0)
        await eventually(lambda: h.cluster.emulator.sleeping_pods("ml") == [])
        status = await eventually(lambda: (s := standby(h)).get("state") == "Awake" and s)
        assert "sleepingPods" not in status and "lastWakeTime" in status and "idleSince" not in status
        assert [c.endpoint for c in h.cluster.emulator.engine_calls("ml")] == ["sleep", "wake_up"]
        await eventually(lambda: "WokenUp" in event_reasons(h))
        # Only POSTs went through the pod proxy: what the chart's `create` on pods/proxy allows.
        proxied = h.cluster.emulator.recorded_requests(resource="pods", subresource="proxy")
        assert {(r.verb, r.method) for r in proxied} == {("create", "POST")}


async def test_a_failing_engine_is_reported_and_retried_with_backoff_not_in_a_storm() -> None:
    async with OperatorHarness(with_keda=True) as h:
        await h.create(manifest())
        pod = await ready_pod(h)
        h.cluster.fail_next(5, 503, method="POST", resource="pods", name=f"{pod}:8000")
        keda_says(h, False, last_active_seconds_ago=60)
        cond = await eventually(
            lambda: (c := condition(h.md("ml", NAME), "WarmStandby")).get("status") == "False" and c
        )
        assert cond["reason"] == "SleepFailed" and pod in cond["message"]
        status = standby(h)
        assert status["failures"] == 1 and status["lastError"].startswith(f"sleep {pod}: 503")
        await eventually(lambda: "StandbyCallFailed" in event_reasons(h))
        await asyncio.sleep(2.0)  # the first retry is due after 15 s: nothing in between
        proxied = h.cluster.emulator.recorded_requests(resource="pods", subresource="proxy")
        assert len(proxied) == 1 and h.cluster.emulator.sleeping_pods("ml") == []


async def test_without_a_wake_up_signal_the_replica_stays_awake_and_says_why() -> None:
    async with OperatorHarness(with_keda=True) as h:
        doc = manifest()
        del doc["spec"]["scaling"]["wakeUp"]
        await h.create(doc)
        await ready_pod(h)
        keda_says(h, False, last_active_seconds_ago=60)
        cond = await eventually(
            lambda: (c := condition(h.md("ml", NAME), "WarmStandby")).get("status") == "False" and c
        )
        assert cond["reason"] == "NoWakeUpSignal" and "wake-up signal" in cond["message"]
        assert condition(h.md("ml", NAME), "AutoscalerReady")["reason"] == "NoWakeUpSignal"
        await asyncio.sleep(0.5)
        assert h.cluster.emulator.engine_calls("ml") == []
