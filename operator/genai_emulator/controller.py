"""Simulated controllers (Deployment, StatefulSet, claim binder), scheduler and kubelet.

Event-driven and coalescing: store changes mark Deployments, StatefulSets and claims dirty and
wake one task, which waits a few milliseconds for a burst to settle and then reconciles only what
changed. An idle cluster costs nothing; 500 Deployments converge in a handful of passes.
The scheduler, likewise, keeps node usage and pending pods from those changes (scheduler_cache.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from genai_emulator import volumes, workloads
from genai_emulator.init_containers import KubeletFaults
from genai_emulator.kubelet import Kubelet
from genai_emulator.operations import Store
from genai_emulator.resources import ResourceSpec
from genai_emulator.scheduler_cache import TERMINAL, Key, SchedulerCache
from genai_emulator.scheduling import NodeView, choose_node
from genai_emulator.statefulsets import StatefulSetController
from genai_emulator.store import Change

logger = logging.getLogger(__name__)


class WorkloadController:
    def __init__(
        self,
        store: Store,
        *,
        ready_delay: float = 0.0,
        coalesce: float = 0.01,
        kubelet_faults: KubeletFaults | None = None,
    ) -> None:
        self.store = store
        self.ready_delay = ready_delay
        self.coalesce = coalesce
        self._deployments = self._spec("apps", "v1", "deployments")
        self._pods = self._spec("", "v1", "pods")
        self._nodes = self._spec("", "v1", "nodes")
        self._claims = self._spec("", "v1", "persistentvolumeclaims")
        self._sets = StatefulSetController(store, self._pods)
        self.kubelet = Kubelet(store, self._pods, self._nodes, kubelet_faults or KubeletFaults())
        self._unsubscribe_faults = self.kubelet.faults.subscribe(self._on_faults)
        self._dirty: set[Key] = set()
        self._dirty_sets: set[Key] = set()
        self._dirty_claims: set[Key] = set()
        self._resync_kubelet = False
        self._schedule_needed = True
        self._gone_nodes: set[str] = set()
        self._starting: dict[Key, float] = {}  # pods bound to a node, ready at loop time
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # A node's parsed view changes only with its resourceVersion; the sorted list with any node change.
        self._views: dict[str, tuple[str, NodeView]] = {}
        self._node_list: list[NodeView] | None = None
        self.scheduler_cache = SchedulerCache()
        for pod in store.items(self._pods):  # a restarted emulator finds pods bound, pending or unstarted
            self.scheduler_cache.update(pod)
        self._unsubscribe = store.subscribe(self._on_change)
        self.passes = 0  # for tests and benchmarks: how much work the controller did

    def _spec(self, group: str, version: str, plural: str) -> ResourceSpec:
        spec = self.store.registry.lookup(group, version, plural)
        if spec is None:
            raise RuntimeError(f"{plural} must be served for the workload controller")
        return spec

    def start(self) -> None:
        for deployment in self.store.items(self._deployments):
            self._dirty.add(_key(deployment))
        self._dirty_sets.update(_key(sts) for sts in self.store.items(self._sets.spec))
        self._dirty_claims.update(_key(claim) for claim in self.store.items(self._claims))
        self._wake.set()  # a first pass for what the store already holds (a restarted emulator)
        self._task = asyncio.create_task(self._run(), name="emulator-workload-controller")

    async def stop(self) -> None:
        self._unsubscribe()
        self._unsubscribe_faults()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # -- reacting to changes ------------------------------------------------------------------

    def _on_change(self, change: Change) -> None:
        spec, obj, old = change.spec, change.obj, change.old
        if spec == self._deployments:
            if change.type != "DELETED":
                self._dirty.add(_key(obj))
        elif spec == self._sets.spec:
            if change.type != "DELETED":
                self._dirty_sets.add(_key(obj))
        elif spec == self._claims:
            if change.type != "DELETED":
                self._dirty_claims.add(_key(obj))
            self._schedule_needed = True  # a pod may wait for this claim
        elif spec == self._pods:
            for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
                owner = (obj["metadata"].get("namespace"), str(ref.get("name")))
                if ref.get("apiVersion") == "apps/v1" and ref.get("kind") == "Deployment":
                    self._dirty.add(owner)
                elif ref.get("apiVersion") == "apps/v1" and ref.get("kind") == "StatefulSet":
                    self._dirty_sets.add(owner)
            self.scheduler_cache.update(obj, deleted=change.type == "DELETED")
            if change.type != "MODIFIED" or _node(obj) != _node(old) or _phase(obj) != _phase(old):
                self._schedule_needed = True  # a new pending pod, or capacity freed/taken
            if change.type == "DELETED":
                self._starting.pop(_key(obj), None)
        elif spec == self._nodes:
            self._schedule_needed = True
            self._node_list = None
            if change.type == "DELETED":
                self._gone_nodes.add(str(obj["metadata"]["name"]))
                self._views.pop(str(obj["metadata"]["name"]), None)
        else:
            return
        self._wake.set()

    def _on_faults(self) -> None:
        self._resync_kubelet = True
        self._wake.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            timeout = min(self._starting.values(), default=None)
            with contextlib.suppress(TimeoutError):
                wait = None if timeout is None else max(timeout - loop.time(), 0.0)
                await asyncio.wait_for(self._wake.wait(), wait)
            await asyncio.sleep(self.coalesce)  # let a burst of changes pile up into one pass
            self._wake.clear()
            try:
                self._pass()
            except Exception:  # keep simulating even if one object is odd
                logger.exception("Workload controller pass failed")

    def _pass(self) -> None:
        self.passes += 1
        dirty, self._dirty = self._dirty, set()
        for key in sorted(dirty, key=_order):
            self._reconcile(key)
        dirty, self._dirty_sets = self._dirty_sets, set()
        for key in sorted(dirty, key=_order):
            self._sets.reconcile(*key)
        dirty, self._dirty_claims = self._dirty_claims, set()  # after the sets: their new claims bind now
        for key in sorted(dirty, key=_order):
            volumes.reconcile_claim(self.store, self._claims, *key)
        if self._schedule_needed:
            self._schedule_needed = False
            self._schedule()
        if self._resync_kubelet:
            self._resync_kubelet = False
            self.kubelet.resync()
        now = asyncio.get_running_loop().time()  # after scheduling, so ready_delay=0 starts pods now
        for key, due in sorted(self._starting.items(), key=lambda item: item[1]):
            if due <= now:
                del self._starting[key]
                self.kubelet.start(*key)

    # -- the deployment controller ------------------------------------------------------------

    def _reconcile(self, key: Key) -> None:
        deployment = self.store.get(self._deployments, *key)
        if deployment is None or deployment["metadata"].get("deletionTimestamp"):
            return
        pod_hash = workloads.template_hash((deployment.get("spec") or {}).get("template") or {})
        current = []
        for pod in self._owned_pods(deployment):
            if _labels(pod).get(workloads.TEMPLATE_HASH_LABEL) == pod_hash:
                current.append(pod)
            else:
                self._delete_pod(pod)  # no rolling update: replace every old-template pod at once
        desired = workloads.desired_replicas(deployment)
        for _ in range(desired - len(current)):
            current.append(
                self.store.create(self._pods, key[0], workloads.new_pod(deployment, pod_hash), enforce=False)
            )
        if len(current) > desired:
            # Keep scheduled, ready and old pods; drop unscheduled, then not ready, then the newest
            # (two stable sorts: oldest first, then scheduled/ready first).
            current.sort(key=lambda p: str(p["metadata"].get("creationTimestamp", "")))
            current.sort(key=lambda p: (bool(_node(p)), workloads.is_pod_ready(p)), reverse=True)
            for pod in current[desired:]:
                self._delete_pod(pod)
            current = current[:desired]
        status = workloads.deployment_status(deployment, current, pod_hash)
        self.store.write_status(self._deployments, deployment, status)

    def _owned_pods(self, deployment: Mapping[str, Any]) -> list[dict[str, Any]]:
        pods = []
        for spec, namespace, name in self.store.dependents(str(deployment["metadata"]["uid"])):
            if spec == self._pods:
                pod = self.store.get(spec, namespace, name)
                if pod is not None and not pod["metadata"].get("deletionTimestamp") and _phase(pod) not in TERMINAL:
                    pods.append(pod)
        return pods

    def _delete_pod(self, pod: Mapping[str, Any]) -> None:
        current = self.store.get(self._pods, *_key(pod))
        if current is not None:
            self.store.mark_deleted(self._pods, current)

    # -- the scheduler and the kubelet --------------------------------------------------------

    def _schedule(self) -> None:
        nodes = self._nodes_sorted()
        node_names = {view.name for view in nodes}
        for name in sorted(self._gone_nodes - node_names):
            for key in self.scheduler_cache.pods_on(name):  # the pod GC removes pods of deleted nodes
                pod = self.store.get(self._pods, *key)
                if pod is not None:
                    self._delete_pod(pod)
        self._gone_nodes.clear()  # their pods are deleted (or finalizing) by now
        due = asyncio.get_running_loop().time() + self.ready_delay
        # Bound elsewhere (preset nodeName, a restart) or waiting for their node to appear.
        for key in sorted(self.scheduler_cache.unstarted, key=_order):
            if key in self._starting:
                self.scheduler_cache.unstarted.discard(key)
            elif _node(self.store.get(self._pods, *key)) in node_names:
                self._starting[key] = due
                self.scheduler_cache.unstarted.discard(key)
        pending = [pod for key in self.scheduler_cache.pending if (pod := self.store.get(self._pods, *key)) is not None]
        pending.sort(
            key=lambda p: (
                p["metadata"].get("creationTimestamp", ""),
                p["metadata"].get("namespace") or "",
                p["metadata"]["name"],
            )
        )
        usage = self.scheduler_cache.usage  # binding a pod updates it (the store tells the cache synchronously)
        for pod in pending:
            requests = self.scheduler_cache.requests(pod)
            claims = volumes.check_pod(self.store, self._claims, pod)
            if claims.problem is not None:  # a PreFilter failure: no node is even looked at
                message = f"0/{len(nodes)} nodes are available: {claims.problem}."
                self.store.write_status(self._pods, pod, workloads.unschedulable_status(pod, message))
                continue
            decision = choose_node(pod, nodes, usage, requests, volume_nodes=claims.nodes)
            if decision.node is None:
                status = workloads.unschedulable_status(pod, decision.message)
                self.store.write_status(self._pods, pod, status)
                continue
            volumes.bind_waiting(self.store, self._claims, pod, claims, decision.node)
            bound = {
                **pod,
                "spec": {**(pod.get("spec") or {}), "nodeName": decision.node},
                "status": workloads.scheduled_status(pod),
            }
            self.store.replace(
                self._pods, pod["metadata"].get("namespace"), pod["metadata"]["name"], bound, enforce=False
            )
            self._starting[_key(pod)] = asyncio.get_running_loop().time() + self.ready_delay
            self.scheduler_cache.unstarted.discard(_key(pod))

    def _nodes_sorted(self) -> list[NodeView]:
        if self._node_list is None:
            views = (self._view(node) for node in self.store.items(self._nodes))
            self._node_list = sorted(views, key=lambda view: view.name)
        return self._node_list

    def _view(self, node: Mapping[str, Any]) -> NodeView:
        name, version = str(node["metadata"]["name"]), str(node["metadata"].get("resourceVersion"))
        cached = self._views.get(name)
        if cached is None or cached[0] != version:
            cached = self._views[name] = (version, NodeView.of(node))
        return cached[1]


def _key(obj: Mapping[str, Any]) -> Key:
    meta = obj["metadata"]
    return meta.get("namespace"), str(meta["name"])


def _order(key: Key) -> tuple[str, str]:
    return key[0] or "", key[1]


def _labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def _node(obj: Mapping[str, Any] | None) -> str | None:
    return ((obj or {}).get("spec") or {}).get("nodeName")


def _phase(obj: Mapping[str, Any] | None) -> str | None:
    return ((obj or {}).get("status") or {}).get("phase")
