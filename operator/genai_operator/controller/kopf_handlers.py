"""Thin Kopf handlers: indexes of nodes and PlacementPools, and events that file ModelDeployments and enqueue a
reconcile.

All handlers are coroutines: Kopf runs plain functions in a thread pool, a needless hop for work this small.

Nothing here reconciles inline: every handler only records state (indexes) or puts a key on the work
queue, so Kopf's watch streams never wait on API writes and bursts of events coalesce. Children and pods
are watched and indexed without Kopf (informers.py): its per-event work was half the CPU at scale.
Handlers return None: a returned value would land in `status.<handler>` and be pruned by the schema.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from genai_operator import API_GROUP, API_VERSION
from genai_operator.controller.runtime import OperatorRuntime
from genai_operator.placement.inventory import node_view

log = logging.getLogger(__name__)

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


def build_registry() -> kopf.OperatorRegistry:
    """A fresh registry, so several operators (tests, the demo) can live in one process."""
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
    @kopf.index("", "v1", "nodes", id="nodes_index", registry=registry)
    async def nodes_index(body: Any, **_: Any) -> dict[Any, Any]:
        return {None: node_view(body)}

    @kopf.index(API_GROUP, API_VERSION, "placementpools", id="pools_index", registry=registry)
    async def pools_index(body: Any, **_: Any) -> dict[Any, Any]:
        return {None: {k: plain(body.get(k)) for k in ("apiVersion", "kind", "metadata", "spec", "status")}}

    # -- triggers ----------------------------------------------------------------------------------------
    # ModelDeployments are filed by their event handler, not a Kopf index: one handler per event instead of
    # an indexer and a handler (Kopf's machinery per handler call was ~5% of the CPU in bench/). Kopf runs
    # event handlers only once every index is filled, and the object's own event files it before the pass.
    @kopf.on.event(API_GROUP, API_VERSION, "modeldeployments", registry=registry)
    async def md_changed(type: str | None, namespace: str | None, name: str, body: Any, memo: Any, **_: Any) -> None:
        runtime: OperatorRuntime = memo["runtime"]
        runtime.model_deployment_changed((namespace or "", name), None if type == "DELETED" else plain(body))

    @kopf.on.event("", "v1", "nodes", registry=registry)
    @kopf.on.event(API_GROUP, API_VERSION, "placementpools", registry=registry)
    async def capacity_changed(memo: kopf.Memo, **_: Any) -> None:
        memo["runtime"].capacity_changed()

    return registry
