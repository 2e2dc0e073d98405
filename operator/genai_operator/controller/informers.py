"""The children and pods indexes, filled by our own list-and-watch loops (kube/watch.py) instead of Kopf.

They have the shape of Kopf's indexes (`indices[name].get(key)` -> the values of every object filed under
`key`), so the controller reads them and Kopf's (ModelDeployments, nodes, PlacementPools) alike, through
one `Indices` mapping. After an object's entries are filed, the runtime is told, in the same step as
Kopf's indexers did: our children wake their ModelDeployment; GPU pods mark their node's capacity.

Watched: every child kind the settings enable (label-selected: managed by us), and all pods (GPU pods of
other owners take capacity), cluster-wide or in each served namespace, as Kopf watches the rest.
Optional kinds (KEDA, Prometheus Operator, InferencePool, HTTPRoute) are watched only while discovery finds their API.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any, Protocol

from genai_operator.api.resources import (
    CHILD_RESOURCES,
    HTTP_ROUTES,
    INFERENCE_POOLS,
    POD_MONITORS,
    PODS,
    SCALED_OBJECTS,
    SERVICE_MONITORS,
    Resource,
)
from genai_operator.kube.session import ApiSession
from genai_operator.kube.watch import ObjectKey, Watcher
from genai_operator.settings import Settings
from genai_operator.status.model_loaded import LoaderState, loader_state

log = logging.getLogger(__name__)

MANAGED = {"app.kubernetes.io/managed-by": "genai-operator"}
MANAGED_SELECTOR = ",".join(f"{k}={v}" for k, v in MANAGED.items())
MD_LABEL = "genaiops.dev/model-deployment"
POOL_LABEL = "genaiops.dev/pool"
GPU_SUFFIX = "/gpu"
PODS_INDEX = "pods_index"
# Kinds of APIs that may be missing from a cluster, by their API group.
OPTIONAL = {
    SCALED_OBJECTS: "keda.sh",
    SERVICE_MONITORS: "monitoring.coreos.com",
    POD_MONITORS: "monitoring.coreos.com",
    INFERENCE_POOLS: "inference.networking.k8s.io",
    HTTP_ROUTES: "gateway.networking.k8s.io",
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


def child_entries(obj: dict[str, Any]) -> dict[Any, Any] | None:
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
        total += sum(int(v) for k, v in limits.items() if k.endswith(GPU_SUFFIX) and str(v).isdigit())
    return total


def pod_entries(obj: Mapping[str, Any]) -> dict[Any, Any] | None:
    """The pods index entries of one pod. Two kinds of key, told apart by type:
    - a node name (str): ((namespace, owner), GPUs) for a bound, live pod requesting GPUs, anyone's;
    - (namespace, ModelDeployment name): `own_pod(...)` for our live inference pods, bound or not."""
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed"):
        return None
    namespace, labels = meta.get("namespace"), meta.get("labels") or {}
    entries: dict[Any, Any] = {}
    owner = labels.get(MD_LABEL)
    node = spec.get("nodeName")
    if node:
        gpus = pod_gpus(spec)
        if gpus > 0:
            entries[str(node)] = ((namespace, owner or ""), gpus)
    if owner and _managed(labels):
        entries[(namespace, owner)] = own_pod(labels, spec, status)
    return entries or None


def own_pod(labels: Mapping[str, str], spec: Any, status: Any) -> tuple[str, bool, str | None, LoaderState | None]:
    """(pool, scheduled, unschedulable since, model loader state) of one of our inference pods."""
    since = None
    for cond in status.get("conditions") or []:
        if (
            cond.get("type") == "PodScheduled"
            and cond.get("status") == "False"
            and cond.get("reason") == "Unschedulable"
        ):
            since = cond.get("lastTransitionTime")
    return labels.get(POOL_LABEL, ""), bool(spec.get("nodeName")), since, loader_state(status)


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
    """A Deployment or StatefulSet whose controller reports every replica updated and ready: the change a
    ModelDeployment's Ready waits for."""
    if obj.get("kind") not in ("Deployment", "StatefulSet"):
        return False
    status = obj.get("status") or {}
    wanted = int((obj.get("spec") or {}).get("replicas", 1))
    return (
        status.get("observedGeneration") == (obj.get("metadata") or {}).get("generation")
        and int(status.get("readyReplicas") or 0) >= wanted
        and int(status.get("updatedReplicas") or 0) >= wanted
    )


# -- the index -------------------------------------------------------------------------------------------
class Index(Mapping[Any, Collection[Any]]):
    """Key -> the values filed under it by every object, like a Kopf index. Values are live views: read
    them before the next await, as with Kopf's stores."""

    def __init__(self) -> None:
        self._stores: dict[Any, dict[ObjectKey, Any]] = {}
        self._entries: dict[ObjectKey, dict[Any, Any]] = {}

    def __getitem__(self, key: Any) -> Collection[Any]:
        return self._stores[key].values()

    def get(self, key: Any, default: Any = None) -> Any:
        store = self._stores.get(key)
        return default if store is None else store.values()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._stores)

    def __len__(self) -> int:
        return len(self._stores)

    def file(self, obj: ObjectKey, entries: dict[Any, Any] | None) -> dict[Any, Any] | None:
        """Replace what `obj` files (None: nothing); returns what it filed before."""
        old = self._entries.pop(obj, None)
        for key in old or ():
            store = self._stores[key]
            del store[obj]
            if not store:
                del self._stores[key]
        if entries:
            self._entries[obj] = entries
            for key, value in entries.items():
                self._stores.setdefault(key, {})[obj] = value
        return old


class Indices(Mapping[str, Any]):
    """Our indexes first, then Kopf's (which Kopf fills in when the operator starts)."""

    def __init__(self, ours: Mapping[str, Index], kopf: Mapping[str, Any]) -> None:
        self.ours, self.kopf = ours, kopf

    def __getitem__(self, name: str) -> Any:
        index = self.ours.get(name)
        return index if index is not None else self.kopf[name]

    def __iter__(self) -> Iterator[str]:
        yield from self.ours
        yield from (name for name in self.kopf if name not in self.ours)

    def __len__(self) -> int:
        return len(self.ours) + sum(1 for name in self.kopf if name not in self.ours)


class _Feed:
    """A watch sink: files each object in its index, then routes it."""

    def __init__(
        self,
        index: Index,
        entries: Callable[[dict[str, Any]], dict[Any, Any] | None],
        route: Callable[[dict[str, Any]], None],
        router: Router,
    ) -> None:
        self.index, self.entries, self.route, self.router = index, entries, route, router

    def changed(self, obj: dict[str, Any], deleted: bool) -> None:
        meta = obj.get("metadata") or {}
        self.index.file((meta.get("namespace"), str(meta.get("name"))), None if deleted else self.entries(obj))
        self.route(obj)

    def vanished(self, key: ObjectKey) -> None:
        # No body left to route: what it had filed says whom it concerned.
        for filed in self.index.file(key, None) or ():
            if isinstance(filed, str):
                self.router.gpu_pod_changed(filed)
            else:
                self.router.child_changed((filed[0] or "", filed[1]))


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
        self.indices: dict[str, Index] = {}
        self._watchers: dict[Resource, list[Watcher]] = {}
        self._tasks: dict[Resource, list[asyncio.Task[None]]] = {}
        kinds = [(r, child_index_name(r), child_entries, MANAGED_SELECTOR) for r in watched_children(settings)]
        for res, name, entries, selector in [*kinds, (PODS, PODS_INDEX, pod_entries, None)]:
            index = self.indices[name] = Index()
            route = route_pod if res == PODS else route_child
            feed = _Feed(index, entries, functools.partial(route, router), router)
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
