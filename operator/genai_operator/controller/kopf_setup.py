"""Starting the operator: Kopf settings (tuned and explained), registry, runtime."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import kopf

# `kopf.operator(indexers=...)` is public; the class is not re-exported at the top level.
from kopf._core.engines.indexing import OperatorIndexers

from genai_operator import API_GROUP
from genai_operator.controller.kopf_handlers import build_registry
from genai_operator.controller.leadership import LeadershipLostError, run_as_leader
from genai_operator.controller.runtime import OperatorRuntime, RunOptions
from genai_operator.kube.leader_election import LeaseConfig
from genai_operator.planning.hysteresis import Timings
from genai_operator.settings import LoopSettings, Settings

log = logging.getLogger(__name__)
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


class _NoEssenceDiffBaseStorage(kopf.AnnotationsDiffBaseStorage):
    """The same storage (prefix, key), minus the per-event "essence": Kopf deep-copies every object on
    every watch event to diff it for on.create/on.update handlers. With none registered (we only index and
    trigger) the copy is never used, and it was ~15% of the operator's CPU in bench/ at N=100."""

    def build(self, *, body: Any, extra_fields: Any = None) -> Any:
        return None  # Kopf treats a missing essence as "nothing to diff"


def quiet_index_toggles() -> None:
    """Wake Kopf's start-up waiters only when the "all indexed" state flips (a process-wide patch, idempotent).

    Before handlers run, Kopf fills every index: each object listed at start-up gets a toggle in one
    `ToggleSet`, and every drop of a toggle wakes every waiting per-object worker (`notify_all`), which
    re-acquires the lock in turn: O(objects^2) wake-ups, ~40% of start-up CPU with 2,000 objects (N=500
    in bench/). Waiters wait on the set's aggregate state (`wait_for`) or on a toggle's own state (which
    `Toggle.turn_to` still notifies), so adding or dropping a toggle that leaves the aggregate unchanged
    need wake nobody. Skipped if kopf's internals changed shape (kopf is pinned <2).
    """
    from kopf._cogs.aiokits import aiotoggles

    cls: Any = aiotoggles.ToggleSet
    if getattr(cls, "_genai_quiet", False) or not all(
        hasattr(cls, name) for name in ("make_toggle", "drop_toggle", "drop_toggles", "is_on")
    ):
        return

    async def change(self: Any, update: Any) -> None:
        async with self._condition:
            before = self.is_on()
            update(self._toggles)
            if self.is_on() != before:
                self._condition.notify_all()

    async def make_toggle(self: Any, __val: bool = False, *, name: str | None = None) -> Any:
        toggle = aiotoggles.Toggle(__val, name=name, condition=self._condition)
        await change(self, lambda toggles: toggles.add(toggle))
        return toggle

    async def drop_toggle(self: Any, toggle: Any) -> None:
        await change(self, lambda toggles: toggles.discard(toggle))

    async def drop_toggles(self: Any, toggles: Any) -> None:
        dropped = list(toggles)
        await change(self, lambda current: current.difference_update(dropped))

    cls.make_toggle, cls.drop_toggle, cls.drop_toggles = make_toggle, drop_toggle, drop_toggles
    cls._genai_quiet = True


def kopf_settings(*, changing_handlers: bool = True) -> kopf.OperatorSettings:
    settings = kopf.OperatorSettings()
    # Our own storage prefix, never Kopf's default: changing storage later would re-run create handlers.
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=API_GROUP)
    storage = kopf.AnnotationsDiffBaseStorage if changing_handlers else _NoEssenceDiffBaseStorage
    settings.persistence.diffbase_storage = storage(prefix=API_GROUP, key="last-handled-configuration")
    settings.persistence.finalizer = f"{API_GROUP}/kopf-finalizer"
    # Only warnings become Kubernetes Events; transitions are posted explicitly, once each.
    settings.posting.level = logging.WARNING
    # `kubectl describe` shows who said it: this operator and its pod (the hostname), not Kopf's "kopf"/"dev".
    settings.posting.reporting_component = "genai-operator"
    settings.posting.reporting_instance = socket.gethostname()
    settings.posting.event_name_prefix = "genai-operator-"
    # Watches are re-established by the server every ~10 min; the client gives up a bit later.
    settings.watching.server_timeout = 600
    settings.watching.client_timeout = 660
    settings.watching.connect_timeout = 30
    settings.networking.request_timeout = 60
    # No limit on Kopf's per-object workers (the default): they only index and enqueue, and at start-up
    # each one waits until every listed object is indexed, so a limit below the number of objects can
    # hold every slot with a waiter. Concurrency of real work is RunOptions.workers (reconciles).
    settings.queueing.worker_limit = None
    # Lists in one request (the default): paging (chunk_size) did not lower the start-up peak in bench/,
    # since every listed object waits in its worker queue until all are indexed anyway.
    settings.watching.chunk_size = None
    # No Kopf peering: it pauses Kopf's handlers only, not our runtime's watches and workers, and needs the
    # kopf.dev peering CRDs. One instance at a time is the leader lease's job (leadership.py).
    settings.peering.standalone = True
    return settings


async def operator_main(
    options: RunOptions,
    *,
    namespaces: Sequence[str] = (),
    clusterwide: bool = True,
    election: LeaseConfig | None = None,
    stop_flag: asyncio.Event | threading.Event | None = None,
    ready_flag: asyncio.Event | threading.Event | None = None,
) -> None:
    """The `genai-operator run` code path, as a coroutine (the CLI, the demo and the tests all use it).
    With `election`, it stands by until it holds the leader lease, and raises LeadershipLostError if it loses it."""
    quiet_index_toggles()
    indexers = OperatorIndexers()
    # Children and pods are watched by the runtime itself, in the same scope as Kopf's watches (Kopf serves
    # the whole cluster when given no namespace).
    runtime = OperatorRuntime(options, indexers.indices, namespaces=namespaces)
    registry = build_registry()
    # Private but stable in kopf 1.x: on.create/update/delete/resume handlers, which need the diff base.
    changing = bool(registry._changing.get_all_handlers())

    async def operate(flag: asyncio.Event | threading.Event | None) -> None:
        await kopf.operator(
            registry=registry,
            settings=kopf_settings(changing_handlers=changing),
            indexers=indexers,
            memo=kopf.Memo(runtime=runtime),
            standalone=True,
            clusterwide=clusterwide and not namespaces,
            namespaces=list(namespaces),
            stop_flag=flag,
            ready_flag=ready_flag,
        )

    if election is None:
        await operate(stop_flag)
    else:
        await run_as_leader(runtime, election, stop_flag, operate)


def lease_config(loop: LoopSettings) -> LeaseConfig:
    """The leader lease of `genai-operator run` without --standalone: the lease namespace setting (the chart
    sets the operator's namespace), else the pod's service-account namespace, else "default". The identity
    is the pod name plus a random suffix, so a restarted container never mistakes its predecessor's lease
    for its own."""
    namespace = loop.lease_namespace or _service_account_namespace() or "default"
    name = loop.lease_name or LeaseConfig.name
    return LeaseConfig(namespace=namespace, name=name, identity=f"{socket.gethostname()}_{uuid.uuid4().hex[:10]}")


def _service_account_namespace() -> str | None:
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or None
    except OSError:
        return None


def run_options(settings: Settings, *, kubeconfig: str | None, metrics_port: int) -> RunOptions:
    """RunOptions with the loop tuning of `settings.loop`; what it leaves unset keeps the defaults of
    RunOptions and Timings."""
    loop = settings.loop
    timings = {
        name: seconds
        for name, seconds in (
            ("unschedulable_seconds", loop.unschedulable_seconds),
            ("autoscaled_unschedulable_seconds", loop.autoscaled_unschedulable_seconds),
            ("return_seconds", loop.return_seconds),
        )
        if seconds is not None
    }
    options = RunOptions(
        kubeconfig=kubeconfig, metrics_port=metrics_port, settings=settings, timings=Timings(**timings)
    )
    if loop.workers is not None:
        options.workers = loop.workers
    if loop.resync_seconds is not None:
        options.resync_seconds = loop.resync_seconds
    return options


def run_operator(
    settings: Settings,
    *,
    namespaces: Sequence[str],
    all_namespaces: bool,
    metrics_port: int,
    standalone: bool,
    kubeconfig: str | None,
    verbose: bool,
) -> int:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if not verbose:
        # Kopf logs "Handler ... succeeded" at INFO for every watch event of every pod and child: thousands of
        # lines (and their formatting) per minute at scale. Failures are logged at WARNING and above.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    options = run_options(settings, kubeconfig=kubeconfig, metrics_port=metrics_port)
    election = None if standalone else lease_config(settings.loop)
    try:
        asyncio.run(operator_main(options, namespaces=namespaces, clusterwide=all_namespaces, election=election))
    except KeyboardInterrupt:
        return 0
    except LeadershipLostError as exc:
        log.error("%s: exiting, to come back as a stand-by", exc)
        return 1
    return 0
