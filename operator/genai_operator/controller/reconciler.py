"""The reconcile loop: take a key from the queue, converge its children, write status. The I/O side.

State comes from indexes kept current by watches (Kopf's, and ours for children and pods), so a reconcile
of an unchanged ModelDeployment makes no API call at all; only changes are written.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from pydantic import ValidationError

from genai_operator import API_GROUP, API_VERSION
from genai_operator.api.loading import describe_validation_error
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.resources import MODEL_DEPLOYMENTS, PLACEMENT_POOLS, Resource
from genai_operator.controller.cold_start_pass import ColdStartReport
from genai_operator.controller.metrics import ObjectTallies, OperatorMetrics
from genai_operator.controller.pass_inputs import POOLS_KEY, Key, PassInputs
from genai_operator.controller.standby_driver import StandbyStep
from genai_operator.controller.workqueue import WorkQueue
from genai_operator.formats.timestamps import to_stamp
from genai_operator.kube.actions import ApplyResult, ChildWriter, apply_actions
from genai_operator.kube.session import ApiError
from genai_operator.planning.autoscaler_choice import choose_autoscaler
from genai_operator.planning.group_choice import LWS_GROUP, group_api_missing
from genai_operator.planning.hysteresis import Timings
from genai_operator.planning.mig_plan import DRA_GROUP, dra_api_missing
from genai_operator.planning.over_time import plan_over_time
from genai_operator.planning.plan import SpecError
from genai_operator.planning.routing_choice import choose_routing
from genai_operator.reconcile.diff import diff_children
from genai_operator.reconcile.expectations import CreatedChildren
from genai_operator.reconcile.rollout import choose_rollouts, rollout_names, with_rollouts
from genai_operator.render.bundle import RENDER_SPEC_ERRORS, render_children
from genai_operator.render.routing import routed_endpoint
from genai_operator.render.site_routing import site_endpoints
from genai_operator.settings import Settings
from genai_operator.status.events import EventSink, transition_events
from genai_operator.status.group_status import missing_api_status
from genai_operator.status.merge_patch import merge_patch
from genai_operator.status.model_deployment import annotate_placement, build_status, invalid_status
from genai_operator.status.model_loaded import model_loaded
from genai_operator.status.placement_pool import pool_statuses
from genai_operator.status.write_hold import only_progress

log = logging.getLogger(__name__)

PROGRESS_HOLD_SECONDS = 2.0  # progress (status/write_hold.py) waits this long for readiness to share its write


class ControllerClient(ChildWriter, Protocol):
    """The API calls a pass makes (kube.client.KubeClient; a recording fake in tests)."""

    async def patch(
        self, res: Resource, namespace: str | None, name: str, patch: dict[str, Any], subresource: str | None = None
    ) -> dict[str, Any]: ...

    async def exists_api(self, group: str, version: str) -> bool: ...


class Controller:
    def __init__(
        self,
        *,
        settings: Settings,
        client: ControllerClient,
        metrics: OperatorMetrics,
        indices: Mapping[str, Any],
        events: EventSink,
        keda_available: bool = False,
        timings: Timings | None = None,
    ) -> None:
        self.settings = settings
        self.client = client
        self.metrics = metrics
        self.inputs = PassInputs(indices)
        self.events = events
        self.keda_available = keda_available
        self.monitors_available = False
        self.inference_pools_available = False  # spec.routing: InferencePool CRD
        self.gateway_api_available = False  # spec.routing.gateway: HTTPRoute CRD
        self.lws_available = False  # multi-node replicas: LeaderWorkerSet CRD
        self.dra_available = False  # MIG slices under DRA: resource.k8s.io/v1 (ResourceClaimTemplates)
        self.timings = timings or Timings()
        self.queue: WorkQueue[Key] = WorkQueue()
        self._tallies = ObjectTallies(metrics)
        self._cold_starts = ColdStartReport(metrics)
        self.capacity = self.inputs.capacity
        self._progress_due: dict[Key, float] = {}  # when a held loading-progress status write becomes due
        self._expected = CreatedChildren()
        # Told which optional API groups discovery found (the runtime watches their kinds while they exist).
        self.discovered: Callable[[Mapping[str, bool]], Awaitable[None]] | None = None
        self.standby: StandbyStep | None = None  # warm standby's calls to engines (controller/standby_driver.py)
        # Asked before each pass; False holds the key (the runtime queues it again when its input is current).
        self.may_reconcile: Callable[[Key], bool] = lambda key: True

    def gpus_requested(self) -> dict[str, int]:
        """GPUs requested by bound, live pods, per node (for capacity snapshots)."""
        return self.inputs.gpus_requested()

    # -- the loop ------------------------------------------------------------------------------------
    async def worker(self) -> None:
        while True:
            key = await self.queue.get()
            self.metrics.queue_depth.set(len(self.queue))
            if not self.may_reconcile(key):
                self.queue.done(key)
                continue
            started = time.perf_counter()
            result = "error"
            try:
                result = await self.reconcile(key)
                self.queue.forget(key)
            except ApiError as exc:
                delay = self.queue.retry(key, exc.retry_after or 0.0)
                log.info("reconcile of %s/%s hit %s; retrying in %.1fs", *key, exc, delay)
                result = "retry"
            except Exception:
                delay = self.queue.retry(key)
                log.exception("reconcile of %s/%s failed; retrying in %.1fs", *key, delay)
            finally:
                self.queue.done(key)
                self.metrics.reconciles.labels(result=result).inc()
                self.metrics.reconcile_seconds.labels(result=result).observe(time.perf_counter() - started)

    async def resync(self, interval: float) -> None:
        """Low-rate safety net: re-reconcile everything; a converged cluster costs no API call."""
        while True:
            await asyncio.sleep(interval)
            await self.refresh_discovery()
            for key in self.inputs.model_deployment_keys():
                self.queue.add(key)

    async def refresh_discovery(self) -> None:
        """Optional APIs, found at run time: installing KEDA later switches Auto backends on the next resync."""
        try:
            if not await self.client.exists_api(API_GROUP, API_VERSION):
                # Kopf waits quietly for a resource that is not served; say why nothing happens, and the fix.
                log.warning(
                    "the %s/%s API is not served: the ModelDeployment and PlacementPool CRDs are not "
                    "installed (helm installs them from the chart's crds/, or kubectl apply -f crds/); "
                    "waiting for them",
                    API_GROUP,
                    API_VERSION,
                )
            if self.settings.keda_enabled:
                self.keda_available = await self.client.exists_api("keda.sh", "v1alpha1")
            if self.settings.service_monitors:
                self.monitors_available = await self.client.exists_api("monitoring.coreos.com", "v1")
            self.inference_pools_available = await self.client.exists_api("inference.networking.k8s.io", "v1")
            self.gateway_api_available = await self.client.exists_api("gateway.networking.k8s.io", "v1")
            self.lws_available = await self.client.exists_api(LWS_GROUP, "v1")
            self.dra_available = await self.client.exists_api(DRA_GROUP, "v1")
        except ApiError as exc:
            log.info("API discovery failed (%s); keeping the previous answer", exc)
        if self.discovered is not None:
            groups = {}
            if self.settings.keda_enabled:
                groups["keda.sh"] = self.keda_available
            if self.settings.service_monitors:
                groups["monitoring.coreos.com"] = self.monitors_available
            groups["inference.networking.k8s.io"] = self.inference_pools_available
            groups["gateway.networking.k8s.io"] = self.gateway_api_available
            groups[LWS_GROUP] = self.lws_available
            groups[DRA_GROUP] = self.dra_available
            await self.discovered(groups)

    def enqueue_all(self) -> None:
        for key in self.inputs.model_deployment_keys():
            self.queue.add(key)

    async def publish_pools(self) -> str:
        """PlacementPool status: nodes and GPUs (total, allocatable, requested by any pod, free)."""
        raw = self.inputs.pool_manifests()
        pools = self.inputs.pools(POOLS_KEY) or []
        changed = 0
        for name, (current, desired) in pool_statuses(pools, raw, to_stamp(time.time())).items():
            if current == desired:
                continue
            patch = {"status": merge_patch(current, desired)}
            await self.client.patch(PLACEMENT_POOLS, None, name, patch, "status")
            changed += 1
        return "changed" if changed else "unchanged"

    # -- one pass ------------------------------------------------------------------------------------
    async def reconcile(self, key: Key) -> str:
        if key == POOLS_KEY:
            return await self.publish_pools()
        body = self.inputs.model_deployment(key)
        if body is None or body.get("metadata", {}).get("deletionTimestamp"):
            self._tallies.forget(key)
            self._cold_starts.forget(key)
            self._progress_due.pop(key, None)
            self._expected.forget(key)
            return "gone"  # garbage collection removes the children
        meta = body["metadata"]
        generation = meta.get("generation")
        old_status = body.get("status") or {}
        try:
            md = ModelDeployment.model_validate(body)
        except ValidationError as exc:
            message = "; ".join(describe_validation_error(exc))
            return await self._invalid(key, body, generation, old_status, "InvalidSpec", message)
        try:
            plan = plan_over_time(
                md,
                self.inputs.pools(key),
                self.settings,
                health=self.inputs.pool_health(key),
                now=time.time(),
                timings=self.timings,
            )
            decision = plan.decision
        except SpecError as exc:
            return await self._invalid(key, body, generation, old_status, "InvalidSpec", str(exc))
        if not decision.fits:
            reason = "; ".join(decision.reasons)
            return await self._invalid(key, body, generation, old_status, "DoesNotFit", reason)

        missing = group_api_missing(decision, lws_available=self.lws_available) or dra_api_missing(
            decision, dra_available=self.dra_available
        )
        if missing is not None:  # say what to install, render nothing; the resync's discovery re-queues it
            now = to_stamp(time.time())
            status = missing_api_status(md, decision, *missing, generation=generation, now=now, settings=self.settings)
            await self._write_status(key, body, old_status, status, created=0)
            self._tallies.track(key, status)
            return "invalid"
        choice = choose_autoscaler(md, keda_available=self.keda_available, settings=self.settings)
        note = None if choice.ready is None else (choice.ready, choice.reason, choice.message)
        routing = choose_routing(
            md, inference_pools=self.inference_pools_available, gateway_api=self.gateway_api_available
        )
        try:
            desired = render_children(
                md,
                decision,
                owner_uid=meta["uid"],
                autoscaler=choice.backend,
                service_monitor=self.monitors_available and self.settings.service_monitors,
                routing=routing.render,
                settings=self.settings,
            )
        except RENDER_SPEC_ERRORS as exc:
            return await self._invalid(key, body, generation, old_status, "InvalidSpec", str(exc))
        observed = self._expected.fill(key, self.inputs.children(key, meta["uid"]), time.monotonic())
        rollouts = choose_rollouts(md.metadata.name, desired, observed, decision)
        desired = with_rollouts(desired, rollouts)
        actions = diff_children(desired, observed)
        applied = ApplyResult()
        if actions:
            applied = await apply_actions(self.client, actions, observed)
            observed = applied.observed
            self._expected.remember(key, ((k, observed[k]) for k in applied.created_keys), time.monotonic())
            self._expected.drop(key, applied.deleted_keys)
        status = build_status(
            md,
            decision,
            observed,
            generation=generation,
            now=to_stamp(time.time()),
            settings=self.settings,
            autoscaler_note=note,
            loaded=model_loaded(self.inputs.loader_states(key), decision.replicas),
            rollouts=rollout_names(rollouts),
            conflicts=applied.conflicts,
            rejected=applied.rejected,
            routing_note=None if routing.ready is None else (routing.ready, routing.reason, routing.message),
            routed_endpoint=routed_endpoint(md, md.spec.routing, self.settings.cluster_domain)
            if routing.render and md.spec.routing is not None
            else None,
            site_endpoints=site_endpoints(md, decision, self.settings.cluster_domain) if routing.render else (),
        )
        annotate_placement(status, plan.pending_since, plan.note, self.inputs.pool_health(key))
        self._cold_starts.annotate(key, status, old_status, self.inputs.pod_starts(key))
        if self.standby is not None:
            await self.standby(key, body, md, decision, observed, status)
        if plan.recheck_after is not None:
            self.queue.add_after(key, plan.recheck_after)
        for problem in (*applied.conflicts, *applied.rejected):
            log.warning("%s/%s: %s", *key, problem)
        await self._write_status(key, body, old_status, status, created=applied.created)
        gpus = {a.pool.name: a.replicas * a.sizing.total_gpus for a in decision.assignments}
        self._tallies.track(key, status, gpus)
        return "changed" if actions else "unchanged"

    async def _invalid(
        self,
        key: Key,
        body: Mapping[str, Any],
        generation: int | None,
        old_status: Mapping[str, Any],
        reason: str,
        message: str,
    ) -> str:
        """No retry storm: the spec is wrong until the user changes it (a new generation re-queues it)."""
        status = invalid_status(
            body["metadata"]["name"],
            reason=reason,
            message=message,
            generation=generation,
            now=to_stamp(time.time()),
            previous=old_status,
        )
        await self._write_status(key, body, old_status, status, created=0)
        self._tallies.track(key, status)
        return "invalid"

    async def _write_status(
        self, key: Key, body: Mapping[str, Any], old: Mapping[str, Any], new: dict[str, Any], created: int
    ) -> None:
        if _same_status(old, new):
            return
        if only_progress(old, new, key[1]):
            due = self._progress_due.setdefault(key, time.monotonic() + PROGRESS_HOLD_SECONDS)
            if time.monotonic() < due:
                self.queue.add_after(key, due - time.monotonic())
                return
        self._progress_due.pop(key, None)
        await self.client.patch(MODEL_DEPLOYMENTS, key[0], key[1], {"status": merge_patch(old, new)}, "status")
        for event in transition_events(old, new, created):
            self.events.post(body, event)


def _same_status(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    return dict(old) == dict(new)
