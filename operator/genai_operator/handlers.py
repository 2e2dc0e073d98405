"""Thin Kopf handlers: indexes that keep state current, and events that enqueue a reconcile.

All handlers are coroutines: Kopf runs plain functions in a thread pool, a needless hop for work this small.

Nothing here reconciles inline: every handler only records state (indexes) or puts a key on the work
queue, so Kopf's watch streams never wait on API writes and bursts of events coalesce. Children and pods
have no on.event handlers when the runner can route their indexed events (`indexed_router`).
Handlers return None: a returned value would land in `status.<handler>` and be pruned by the schema.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import kopf

from genai_operator import API_GROUP, API_VERSION
from genai_operator.kube.resources import (
    CHILD_RESOURCES,
    POD_MONITORS,
    SCALED_OBJECTS,
    SERVICE_MONITORS,
    Resource,
)
from genai_operator.model_loading import LoaderState, loader_state
from genai_operator.placement.inventory import node_view
from genai_operator.runtime import OperatorRuntime
from genai_operator.settings import Settings

log = logging.getLogger(__name__)

MANAGED = {"app.kubernetes.io/managed-by": "genai-operator"}
MD_LABEL = "genaiops.dev/model-deployment"
POOL_LABEL = "genaiops.dev/pool"
GPU_SUFFIX = "/gpu"


_SCALARS = frozenset((str, int, float, bool, type(None)))


def plain(value: Any) -> Any:
    """A deep plain-dict copy of a Kopf body (its views would change under us). Exact type checks first:
    this runs on every watch event of every indexed object, and most values are strings."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict or (kind is not list and kind is not tuple and hasattr(value, "items")):
        return {k: plain(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [plain(v) for v in value]
    return value


def projection(body: Any) -> dict[str, Any]:
    """What drift detection needs from a child: everything but managedFields (often the bulk of it)."""
    out: dict[str, Any] = plain(body)
    out.get("metadata", {}).pop("managedFields", None)
    return out


def pod_gpus(spec: Any) -> int:
    total = 0
    for container in spec.get("containers") or []:
        resources = container.get("resources") or {}
        limits = resources.get("limits") or resources.get("requests") or {}
        total += sum(int(v) for k, v in limits.items() if k.endswith(GPU_SUFFIX) and str(v).isdigit())
    return total


def _managed(labels: Mapping[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in MANAGED.items())


def pod_entries(
    namespace: str | None, labels: Mapping[str, str], spec: Any, status: Any
) -> dict[Any, Any] | None:
    """The pods index entries of one pod. Two kinds of key, told apart by type:
    - a node name (str): ((namespace, owner), GPUs) for a bound, live pod requesting GPUs, anyone's;
    - (namespace, ModelDeployment name): `own_pod(...)` for our live inference pods, bound or not."""
    if status.get("phase") in ("Succeeded", "Failed"):
        return None
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
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False" and \
                cond.get("reason") == "Unschedulable":
            since = cond.get("lastTransitionTime")
    return labels.get(POOL_LABEL, ""), bool(spec.get("nodeName")), since, loader_state(status)


def watched_children(settings: Settings) -> tuple[Resource, ...]:
    """Child kinds to watch: optional APIs the settings turn off are not watched at all (no RBAC for them)."""
    skip = set()
    if not settings.keda_enabled:
        skip.add(SCALED_OBJECTS)
    if not settings.service_monitors:
        skip.update((SERVICE_MONITORS, POD_MONITORS))
    return tuple(r for r in CHILD_RESOURCES if r not in skip)


def build_registry(settings: Settings | None = None, *, triggers_from_indexing: bool = False) -> kopf.OperatorRegistry:
    """A fresh registry, so several operators (tests, the demo) can live in one process.

    `triggers_from_indexing`: the caller routes every indexed or deleted child and pod to `indexed_router`
    (see runner.py), so those resources need no on.event handlers."""
    children = watched_children(settings or Settings())
    registry = kopf.OperatorRegistry()

    @kopf.on.startup(registry=registry)
    async def start(memo: kopf.Memo, **_: Any) -> None:
        runtime: OperatorRuntime = memo["runtime"]
        await runtime.start()

    @kopf.on.cleanup(registry=registry)
    async def stop(memo: kopf.Memo, **_: Any) -> None:
        runtime: OperatorRuntime = memo["runtime"]
        await runtime.stop()

    @kopf.on.login(registry=registry)
    async def login(memo: kopf.Memo, **_: Any) -> kopf.ConnectionInfo:
        runtime: OperatorRuntime = memo["runtime"]
        return runtime.connection_info()

    # -- indexes: the operator's view of the cluster, kept small ---------------------------------------
    @kopf.index(API_GROUP, API_VERSION, "modeldeployments", id="md_index", registry=registry)
    async def md_index(namespace: str | None, name: str, body: Any, **_: Any) -> dict[Any, Any]:
        return {(namespace, name): plain(body)}

    for res in children:
        kopf.index(res.group, res.version, res.plural, id=f"children_{res.plural}", labels=MANAGED, registry=registry)(
            _child_index
        )

    @kopf.index("", "v1", "nodes", id="nodes_index", registry=registry)
    async def nodes_index(body: Any, **_: Any) -> dict[Any, Any]:
        return {None: node_view(body)}

    @kopf.index(API_GROUP, API_VERSION, "placementpools", id="pools_index", registry=registry)
    async def pools_index(body: Any, **_: Any) -> dict[Any, Any]:
        return {None: {k: plain(body.get(k)) for k in ("apiVersion", "kind", "metadata", "spec", "status")}}

    # One index and one event handler for all pods: Kopf's per-handler cost (kwargs, state, filters) is paid
    # per watch event, and pods are the busiest stream (about 4 events per replica).
    @kopf.index("", "v1", "pods", id="pods_index", registry=registry)
    async def pods_index(namespace: str | None, labels: Mapping[str, str], spec: Any, status: Any,
                         **_: Any) -> dict[Any, Any] | None:
        return pod_entries(namespace, labels, spec, status)

    # -- triggers ----------------------------------------------------------------------------------------
    @kopf.on.event(API_GROUP, API_VERSION, "modeldeployments", registry=registry)
    async def md_changed(namespace: str | None, name: str, memo: Any, **_: Any) -> None:
        memo["runtime"].enqueue((namespace, name))

    if not triggers_from_indexing:
        for res in children:
            kopf.on.event(
                res.group, res.version, res.plural, labels=MANAGED, registry=registry, id=f"child_changed_{res.plural}"
            )(_child_changed)

        @kopf.on.event("", "v1", "pods", registry=registry)
        async def pod_changed(namespace: str | None, labels: Mapping[str, str], spec: Any, memo: kopf.Memo,
                              **_: Any) -> None:
            _pod_changed(memo["runtime"], namespace, labels, spec)

    @kopf.on.event("", "v1", "nodes", registry=registry)
    @kopf.on.event(API_GROUP, API_VERSION, "placementpools", registry=registry)
    async def capacity_changed(memo: kopf.Memo, **_: Any) -> None:
        memo["runtime"].capacity_changed()

    return registry


async def _child_index(namespace: str | None, labels: Mapping[str, str], body: Any, **_: Any) -> dict[Any, Any] | None:
    owner = labels.get(MD_LABEL)
    return {(namespace, owner): projection(body)} if owner else None


def _pod_changed(runtime: OperatorRuntime, namespace: str | None, labels: Mapping[str, str], spec: Any) -> None:
    owner = labels.get(MD_LABEL)
    if owner and _managed(labels):  # our pods: readiness and schedulability feed status and spillover
        runtime.child_changed((namespace or "", owner))
    if pod_gpus(spec) > 0:  # GPUs taken or freed (on its node, once bound)
        runtime.gpu_pod_changed(spec.get("nodeName"))


def indexed_router(settings: Settings, runtime: OperatorRuntime) -> Callable[[Mapping[str, Any]], None]:
    """What to tell the runtime once Kopf has indexed a watch event's object (or dropped a deleted one):
    the same as the on.event handlers of children and pods would, without Kopf invoking a second handler
    per event (its per-invocation cost was about a quarter of the operator's CPU in bench/)."""
    child_kinds = frozenset(r.kind for r in watched_children(settings))

    def route(body: Mapping[str, Any]) -> None:
        kind = body.get("kind")
        if kind != "Pod" and kind not in child_kinds:
            return
        meta = body.get("metadata") or {}
        labels = meta.get("labels") or {}
        if kind == "Pod":
            _pod_changed(runtime, meta.get("namespace"), labels, body.get("spec") or {})
        elif labels.get(MD_LABEL) and _managed(labels):
            runtime.child_changed((meta.get("namespace") or "", labels[MD_LABEL]))

    return route


async def _child_changed(namespace: str | None, labels: Mapping[str, str], memo: Any, **_: Any) -> None:
    owner = labels.get(MD_LABEL)
    if owner:
        memo["runtime"].child_changed((namespace, owner))
