"""The children and pods indexes, filled by our own list-and-watch loops (kube/watch.py) instead of Kopf.

They have the shape of Kopf's indexes (indexes.py), so the controller reads them and Kopf's (nodes,
PlacementPools) alike. After an object's entries are filed, the runtime is told, in the same step as
Kopf's indexers did: our children wake their ModelDeployment; GPU pods mark their node's capacity.
Each index has one kind of key: children by ModelDeployment; pods twice, GPU pods by node name (capacity)
and our inference pods by ModelDeployment (status, spillover).

Watched: every child kind the settings enable (label-selected: managed by us), and all pods (GPU pods of
other owners take capacity), cluster-wide or in each served namespace, as Kopf watches the rest.
Optional kinds (KEDA, Prometheus Operator, InferencePool, HTTPRoute, LeaderWorkerSet) are watched only while
discovery finds their API.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, NamedTuple, Protocol

from genai_operator.api.resources import (
    CHILD_RESOURCES,
    HTTP_ROUTES,
    INFERENCE_POOLS,
    LEADER_WORKER_SETS,
    POD_MONITORS,
    PODS,
    RESOURCE_CLAIM_TEMPLATES,
    SCALED_OBJECTS,
    SERVICE_MONITORS,
    Resource,
)
from genai_operator.controller.indexes import Index, K, V
from genai_operator.kube.session import ApiSession
from genai_operator.kube.watch import ObjectKey, Watcher
from genai_operator.reconcile.children import WORKLOAD_KINDS, rollout_done
from genai_operator.settings import Settings
from genai_operator.sizing.mig_catalog import MIG_RESOURCE_PREFIX
from genai_operator.status.cold_start import PodStart, pod_start
from genai_operator.status.model_loaded import LoaderState, loader_state

log = logging.getLogger(__name__)

MANAGED = {"app.kubernetes.io/managed-by": "genai-operator"}
MANAGED_SELECTOR = ",".join(f"{k}={v}" for k, v in MANAGED.items())
MD_LABEL = "genaiops.dev/model-deployment"
POOL_LABEL = "genaiops.dev/pool"
GPU_SUFFIX = "/gpu"
GPU_PODS_INDEX = "gpu_pods_index"  # node name -> GpuPod
OWN_PODS_INDEX = "own_pods_index"  # (namespace, ModelDeployment name) -> OwnPod
OwnerKey = tuple[str | None, str]  # (namespace, name) of the ModelDeployment a child or pod belongs to
# Kinds of APIs that may be missing from a cluster, by their API group.
OPTIONAL = {
    SCALED_OBJECTS: "keda.sh",
    SERVICE_MONITORS: "monitoring.coreos.com",
    POD_MONITORS: "monitoring.coreos.com",
    INFERENCE_POOLS: "inference.networking.k8s.io",
    HTTP_ROUTES: "gateway.networking.k8s.io",
    LEADER_WORKER_SETS: "leaderworkerset.x-k8s.io",
    RESOURCE_CLAIM_TEMPLATES: "resource.k8s.io",
}


class Router(Protocol):
    def child_changed(self, key: tuple[str, str], *, rolled_out: bool = False) -> None: ...

    def gpu_pod_changed(self, node: str | None) -> None: ...


def child_index_name(res: Resource) -> str:
    return f"children_{res.plural}"


def watched_children(settings: Settings) -> tuple[Resource, ...]:
    """Child kinds to watch: optional APIs the settings turn off are not watched at all (no RBAC for them)."""
    skip = set()
    if not settings.keda_enabled:
        skip.add(SCALED_OBJECTS)
    if not settings.service_monitors:
        skip.update((SERVICE_MONITORS, POD_MONITORS))
    return tuple(r for r in CHILD_RESOURCES if r not in skip)


# -- what an object files under which key ------------------------------------------------------------
def _managed(labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in MANAGED.items())


def child_entries(obj: dict[str, Any]) -> dict[OwnerKey, dict[str, Any]] | None:
    """Our child, as drift detection needs it: all but managedFields (often the bulk of it). The object is
    freshly decoded JSON and ours alone, so it is filed as is, no copy."""
    meta = obj.get("metadata") or {}
    labels = meta.get("labels") or {}
    owner = labels.get(MD_LABEL)
    if not owner or not _managed(labels):
        return None
    meta.pop("managedFields", None)
    return {(meta.get("namespace"), owner): obj}


def pod_gpus(spec: Mapping[str, Any]) -> int:
    total = 0
    for container in spec.get("containers") or []:
        resources = container.get("resources") or {}
        limits = resources.get("limits") or resources.get("requests") or {}
        # MIG slices (nvidia.com/mig-<profile>) count like GPUs: slice pools count capacity in slices.
        total += sum(
            int(v)
            for k, v in limits.items()
            if (k.endswith(GPU_SUFFIX) or k.startswith(MIG_RESOURCE_PREFIX)) and str(v).isdigit()
        )
    return total


class GpuPod(NamedTuple):
    """A bound, live pod requesting GPUs, anyone's: filed under its node's name (capacity)."""

    owner: OwnerKey  # the ModelDeployment it belongs to; name "" for other owners' pods
    gpus: int


class OwnPod(NamedTuple):
    """One of our live inference pods, bound or not: filed under its ModelDeployment (status, spillover)."""

    pool: str
    scheduled: bool
    unschedulable_since: str | None
    loader: LoaderState | None
    start: PodStart | None = None  # a ready pod's creation, download and Ready times (status.coldStart)
    name: str = ""  # warm standby calls the pod's engine by name
    ready: bool = False


def _live(obj: Mapping[str, Any]) -> bool:
    return (obj.get("status") or {}).get("phase") not in ("Succeeded", "Failed")


def gpu_pod_entries(obj: Mapping[str, Any]) -> dict[str, GpuPod] | None:
    """The GPU pods index entry of one pod: its node's name, when it is bound, live and requests GPUs."""
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    node = spec.get("nodeName")
    if not node or not _live(obj):
        return None
    gpus = pod_gpus(spec)
    if gpus <= 0:
        return None
    owner = (meta.get("labels") or {}).get(MD_LABEL)
    return {str(node): GpuPod((meta.get("namespace"), owner or ""), gpus)}


def own_pod_entries(obj: Mapping[str, Any]) -> dict[OwnerKey, OwnPod] | None:
    """Our pods index entry of one pod: its ModelDeployment, when it is one of our live inference pods."""
    meta = obj.get("metadata") or {}
    labels = meta.get("labels") or {}
    owner = labels.get(MD_LABEL)
    if not owner or not _managed(labels) or not _live(obj):
        return None
    pod = own_pod(labels, obj.get("spec") or {}, obj.get("status") or {})
    start = pod_start(obj)  # only a ready pod's start counts (status/cold_start.py)
    pod = pod._replace(name=str(meta.get("name", "")))
    return {(meta.get("namespace"), owner): pod._replace(start=start) if start.ready is not None else pod}


def own_pod(labels: Mapping[str, str], spec: Any, status: Any) -> OwnPod:
    """Pool, scheduled, unschedulable since, and model loader state of one of our inference pods."""
    since, ready = None, False
    for cond in status.get("conditions") or []:
        ready = ready or (cond.get("type") == "Ready" and cond.get("status") == "True")
        if (
            cond.get("type") == "PodScheduled"
            and cond.get("status") == "False"
            and cond.get("reason") == "Unschedulable"
        ):
            since = cond.get("lastTransitionTime")
    return OwnPod(labels.get(POOL_LABEL, ""), bool(spec.get("nodeName")), since, loader_state(status), ready=ready)


def route_pod(router: Router, obj: Mapping[str, Any]) -> None:
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    labels = meta.get("labels") or {}
    owner = labels.get(MD_LABEL)
    if owner and _managed(labels):  # our pods: readiness and schedulability feed status and spillover
        router.child_changed((meta.get("namespace") or "", owner))
    if pod_gpus(spec) > 0:  # GPUs taken or freed (on its node, once bound)
        router.gpu_pod_changed(spec.get("nodeName"))


def route_child(router: Router, obj: Mapping[str, Any]) -> None:
    meta = obj.get("metadata") or {}
    labels = meta.get("labels") or {}
    if labels.get(MD_LABEL) and _managed(labels):
        router.child_changed((meta.get("namespace") or "", labels[MD_LABEL]), rolled_out=rolled_out(obj))


def rolled_out(obj: Mapping[str, Any]) -> bool:
    """A Deployment or StatefulSet whose rollout is done: the change a ModelDeployment's Ready waits for."""
    return obj.get("kind") in WORKLOAD_KINDS and rollout_done(obj)


@dataclass(frozen=True)
class Filing(Generic[K, V]):
    """One index a watched kind files into: what an object files there, and whom to tell about each key
    an object had filed under when it vanishes with no body left to route."""

    index: Index[K, V]
    entries: Callable[[dict[str, Any]], dict[K, V] | None]
    vanished: Callable[[K], None]


class _Feed:
    """A watch sink: files each object in its indexes, then routes it."""

    def __init__(self, filings: Sequence[Filing[Any, Any]], route: Callable[[dict[str, Any]], None]) -> None:
        self.filings, self.route = filings, route

    def changed(self, obj: dict[str, Any], deleted: bool) -> None:
        meta = obj.get("metadata") or {}
        key = (meta.get("namespace"), str(meta.get("name")))
        for filing in self.filings:
            filing.index.file(key, None if deleted else filing.entries(obj))
        self.route(obj)

    def vanished(self, key: ObjectKey) -> None:
        for filing in self.filings:
            for filed in filing.index.file(key, None) or ():
                filing.vanished(filed)


class WatchedIndexes:
    """The watches behind our indexes, their tasks, and the wait for their first lists."""

    def __init__(
        self, session: ApiSession, settings: Settings, router: Router, *, namespaces: Sequence[str] = ()
    ) -> None:
        """`session`: the operator's connection (the caller closes it)."""
        if any(c in ns for ns in namespaces for c in "*?[!"):
            raise ValueError(f"namespace patterns are not supported, only names: {list(namespaces)}")
        self.session = session
        self.namespaces: tuple[str | None, ...] = tuple(namespaces) or (None,)  # None: cluster-wide
        self.indices: dict[str, Index[Any, Any]] = {}
        self._watchers: dict[Resource, list[Watcher]] = {}
        self._tasks: dict[Resource, list[asyncio.Task[None]]] = {}

        def owner_changed(key: OwnerKey) -> None:
            router.child_changed((key[0] or "", key[1]))

        for res in watched_children(settings):
            children: Index[OwnerKey, dict[str, Any]] = self._index(child_index_name(res))
            feed = _Feed([Filing(children, child_entries, owner_changed)], functools.partial(route_child, router))
            self._watch(res, feed, MANAGED_SELECTOR)
        gpu_pods: Index[str, GpuPod] = self._index(GPU_PODS_INDEX)
        own_pods: Index[OwnerKey, OwnPod] = self._index(OWN_PODS_INDEX)
        filings: list[Filing[Any, Any]] = [
            Filing(gpu_pods, gpu_pod_entries, router.gpu_pod_changed),
            Filing(own_pods, own_pod_entries, owner_changed),
        ]
        self._watch(PODS, _Feed(filings, functools.partial(route_pod, router)), None)

    def _index(self, name: str) -> Index[Any, Any]:
        index: Index[Any, Any] = Index()
        self.indices[name] = index
        return index

    def _watch(self, res: Resource, feed: _Feed, selector: str | None) -> None:
        self._watchers[res] = [
            Watcher(self.session, res, feed, namespace=ns, label_selector=selector) for ns in self.namespaces
        ]

    def start(self) -> None:
        """Start the watches of every kind but the optional ones (see `enable`)."""
        for res in self._watchers:
            if res not in OPTIONAL:
                self._start(res)

    def _start(self, res: Resource) -> None:
        self._tasks[res] = [
            asyncio.create_task(w.run(), name=f"watch-{w.resource.plural}-{w.namespace or 'all'}")
            for w in self._watchers[res]
        ]

    async def enable(self, groups: Mapping[str, bool]) -> None:
        """Watch the optional kinds whose API group discovery found (waiting for their first lists), stop
        watching those whose group went away (their objects with it)."""
        for res, group in OPTIONAL.items():
            if res not in self._watchers or group not in groups:
                continue
            if groups[group] and res not in self._tasks:
                log.info("watching %s: its API is available", res.plural)
                self._start(res)
            elif not groups[group] and res in self._tasks:
                log.info("no longer watching %s: its API went away", res.plural)
                await _cancel(self._tasks.pop(res))
                for watcher in self._watchers[res]:
                    watcher.forget_all()
                    watcher.synced.clear()
        await self.synced()

    async def synced(self) -> None:
        """Until every running watch has delivered its first list."""
        await asyncio.gather(*(w.synced.wait() for res in self._tasks for w in self._watchers[res]))

    async def stop(self) -> None:
        tasks = [t for ts in self._tasks.values() for t in ts]
        self._tasks.clear()
        await _cancel(tasks)


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
