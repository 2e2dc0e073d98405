"""Warm standby in a reconcile pass: read the autoscaler's signal, call the engines, record what happened.

The decision is pure (reconcile/standby.py), the status too (status/standby.py); this module reads the pass's
inputs (the ScaledObject among the observed children, our pods from the index), makes the sleep and
wake-up calls through the pod proxy (kube/engine_proxy.py), posts the Events and queues the pass again
when the idle period or a backoff runs out. A converged standby costs no call: sleeping pods are
remembered in status.standby, not asked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from genai_operator.api.conditions import AUTOSCALER_READY
from genai_operator.api.enums import Engine
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.scaling import standby_of
from genai_operator.controller.pass_inputs import Key, PassInputs
from genai_operator.formats.timestamps import to_stamp
from genai_operator.placement.types import PlacementDecision
from genai_operator.reconcile.diff import ChildKey
from genai_operator.reconcile.standby import StandbyPod, backoff_seconds, decide, scaled_object_signal
from genai_operator.render.metadata import md_namespace
from genai_operator.render.names import autoscaler_name
from genai_operator.render.scaledobject import wake_signal
from genai_operator.settings import Settings
from genai_operator.sizing.standby import standby_host_bytes
from genai_operator.status.conditions import merge_conditions
from genai_operator.status.events import EventSink
from genai_operator.status.standby import SLEEP, WAKE, Action, CallOutcome, previous_standby, standby_status


class EngineCalls(Protocol):
    """kube.engine_proxy.EngineProxy; a fake engine in tests. Each call returns '' or the error."""

    async def sleep(self, namespace: str, pod: str, port: int, level: int) -> str: ...

    async def wake_up(self, namespace: str, pod: str, port: int) -> str: ...


# What the reconcile pass calls: (key, body, md, decision, observed children, status being built).
StandbyStep = Callable[
    [Key, Mapping[str, Any], ModelDeployment, PlacementDecision, Mapping[ChildKey, Mapping[str, Any]], dict[str, Any]],
    Awaitable[None],
]


class StandbyDriver:
    def __init__(
        self,
        calls: EngineCalls,
        inputs: PassInputs,
        events: EventSink,
        settings: Settings,
        recheck: Callable[[Key, float], None],
    ) -> None:
        self.calls, self.inputs, self.events, self.settings, self.recheck = calls, inputs, events, settings, recheck

    async def __call__(
        self,
        key: Key,
        body: Mapping[str, Any],
        md: ModelDeployment,
        decision: PlacementDecision,
        observed: Mapping[ChildKey, Mapping[str, Any]],
        status: dict[str, Any],
    ) -> None:
        """Fill status.standby and the WarmStandby condition of `status`, making the calls the decision asks."""
        standby = standby_of(md.spec.scaling)
        if standby is None:
            return
        vllm_pools = {a.pool.name for a in decision.assignments if a.engine == Engine.VLLM}
        pods = [StandbyPod(p.name, p.ready) for p in self.inputs.own_pods(key) if p.pool in vllm_pools and p.name]
        autoscaling = any(c["type"] == AUTOSCALER_READY and c["status"] == "True" for c in status["conditions"])
        old_status = body.get("status") or {}
        now = time.time()
        plan = decide(
            standby,
            scaled_object_signal(observed.get(("ScaledObject", autoscaler_name(md.metadata.name)))),
            pods,
            previous_standby(old_status),
            replicas=md.spec.replicas,
            can_wake=autoscaling and wake_signal(md, self.settings) is not None,
            now=now,
        )
        namespace, port = md_namespace(md), md.spec.serving.port
        calls: list[tuple[str, Action, Awaitable[str]]] = []
        calls += [(pod, SLEEP, self.calls.sleep(namespace, pod, port, standby.level)) for pod in plan.to_sleep]
        calls += [(pod, WAKE, self.calls.wake_up(namespace, pod, port)) for pod in plan.to_wake]
        answers = await asyncio.gather(*(call for _, _, call in calls))
        outcomes = [CallOutcome(pod, action, error) for (pod, action, _), error in zip(calls, answers, strict=True)]
        primary = decision.primary
        host = standby_host_bytes(primary.sizing.estimate, standby.level) if primary is not None else 0
        standby_now, cond, events = standby_status(plan, outcomes, old_status.get("standby"), now=now, host_bytes=host)
        status["standby"] = standby_now
        generation = body.get("metadata", {}).get("generation")
        status["conditions"] = [
            *status["conditions"],
            *merge_conditions(old_status.get("conditions"), [cond], to_stamp(now), generation),
        ]
        for event in events:
            self.events.post(body, event)
        failed = any(o.error for o in outcomes)
        retry = backoff_seconds(int(standby_now.get("failures") or 0)) if failed else plan.recheck_after
        if retry:
            self.recheck(key, retry)
