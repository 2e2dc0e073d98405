"""What lives for the lifetime of one operator process: client, controller, workers, metrics endpoint."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import kopf

from genai_operator.api.resources import MODEL_DEPLOYMENTS
from genai_operator.controller.indexes import Index, Indices
from genai_operator.controller.informers import WatchedIndexes
from genai_operator.controller.metrics import MetricsServer, OperatorMetrics
from genai_operator.controller.pass_inputs import POOLS_KEY, Key, first
from genai_operator.controller.reconciler import Controller
from genai_operator.controller.standby_driver import StandbyDriver
from genai_operator.kube.client import KubeClient
from genai_operator.kube.engine_proxy import EngineProxy
from genai_operator.kube.session import ApiSession, load_configuration
from genai_operator.planning.capacity import CapacitySnapshot, capacity_snapshot
from genai_operator.planning.hysteresis import Timings
from genai_operator.settings import Settings
from genai_operator.status.events import Event

log = logging.getLogger(__name__)


@dataclass
class RunOptions:
    kubeconfig: str | None = None
    metrics_port: int = 8080  # 0: no endpoint
    metrics_host: str = "0.0.0.0"
    # Concurrent reconciles (coroutines on the one event loop). A pass mostly waits for the API server, so
    # more workers overlap more round trips, up to the count past which bench/ converged no faster and made
    # more passes (the README's benchmark section has the measurements). Writes stay children + 2 at any
    # count: a pass waits until our last status write is back in the index (runtime.may_reconcile).
    workers: int = 8
    resync_seconds: float = 300.0
    capacity_debounce_seconds: float = 2.0
    child_event_window_seconds: float = 0.25
    echo_timeout_seconds: float = 5.0  # the longest a pass waits for our own status write to come back
    settings: Settings = field(default_factory=Settings)
    # When stuck replicas spill to the next pool, and how long a better split must last before they return.
    timings: Timings = field(default_factory=Timings)


class KopfEvents:
    """Events posted through Kopf, which queues them and posts on its own connection. `kopf.event` finds its
    poster in the context of Kopf's per-object processing, which the workers inherit (`_start_workers`)."""

    def post(self, body: Mapping[str, Any], event: Event) -> None:
        kopf.event(kopf.Body(cast(Any, dict(body))), type=event.type, reason=event.reason, message=event.message)


class OperatorRuntime:
    def __init__(self, options: RunOptions, kopf_indices: Any, *, namespaces: Sequence[str] = ()) -> None:
        """`kopf_indices`: Kopf's indexes (nodes, PlacementPools); `namespaces`: where to
        watch children and pods (none: the whole cluster), as Kopf is told for the rest."""
        self.options = options
        self.metrics = OperatorMetrics()
        self.configuration = load_configuration(options.kubeconfig)
        # One connection pool for everything: watches, reads and writes, all on the event loop.
        self.session = ApiSession(self.configuration)
        self.watches = WatchedIndexes(self.session, options.settings, self, namespaces=namespaces)
        # ModelDeployments by (namespace, name), filed from Kopf's event handler (kopf_handlers.py says why).
        self.model_deployments: Index[Key, dict[str, Any]] = Index()
        self.indices = Indices({**self.watches.indices, "md_index": self.model_deployments}, kopf_indices)
        self.client = KubeClient(
            self.session,
            on_write=lambda verb, res: self.metrics.record_write(verb, res.kind),
            remember_versions=frozenset({MODEL_DEPLOYMENTS.plural}),
        )
        self.controller = Controller(
            settings=options.settings,
            client=self.client,
            metrics=self.metrics,
            indices=self.indices,
            events=KopfEvents(),
            timings=options.timings,
        )
        self.controller.discovered = self.watches.enable
        self.controller.may_reconcile = self.may_reconcile
        self.controller.standby = StandbyDriver(
            EngineProxy(self.client),
            self.controller.inputs,
            self.controller.events,
            options.settings,
            self.controller.queue.add_after,
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._capacity_timer: asyncio.TimerHandle | None = None
        self._capacity_seen: CapacitySnapshot | None = None
        self._echoed: dict[Key, str] = {}  # the last status write of ours seen back on the watch, per key
        # Keys waiting for that echo, with a timeout, and whether their pass is a follow-up (workqueue.py).
        self._deferred: dict[Key, tuple[asyncio.TimerHandle, bool]] = {}
        self.metrics_server: MetricsServer | None = None

    def connection_info(self) -> kopf.ConnectionInfo:
        """Kopf's own connection, from the very configuration the client uses (an explicit kubeconfig path)."""
        cfg = self.configuration
        token = (cfg.api_key or {}).get("authorization") or (cfg.api_key or {}).get("BearerToken")
        scheme = None
        if token and " " in token:
            scheme, token = token.split(" ", 1)
        return kopf.ConnectionInfo(
            server=cfg.host,
            ca_path=cfg.ssl_ca_cert,
            insecure=not cfg.verify_ssl,
            scheme=scheme or "Bearer",
            token=token,
            certificate_path=cfg.cert_file,
            private_key_path=cfg.key_file,
            username=cfg.username or None,
            password=cfg.password or None,
        )

    async def start(self) -> None:
        """Kopf runs this before it watches anything, and no reconcile starts before Kopf has indexed what it
        watches; waiting here for our watches' first lists extends that guarantee to children and pods (a
        pass on an empty children index would create them again)."""
        self.watches.start()
        await self.controller.refresh_discovery()  # also starts the watches of optional kinds found
        await self.watches.synced()
        self.serve_metrics()

    def serve_metrics(self) -> None:
        """/metrics and /healthz (once): also while standing by for the leader lease, so probes pass."""
        if self.options.metrics_port and self.metrics_server is None:
            self.metrics_server = MetricsServer(self.metrics, self.options.metrics_port, self.options.metrics_host)
            self.metrics_server.start()
            log.info("metrics on :%d/metrics, liveness on /healthz", self.metrics_server.port)

    def _start_workers(self) -> None:
        """Started from the first watch event, not at startup: tasks inherit the context they are created
        in, and only Kopf's per-object processing context carries its event poster (for `KopfEvents`).
        That first event also comes after Kopf has filled every index, and ours are filled before Kopf starts."""
        if self._capacity_seen is None:
            # The capacity baseline: every object listed at start-up is reconciled on its first event against
            # the indexes as they are now, so the first capacity look re-plans only on a change since then
            # (a second full pass at start-up cost as much as the first).
            self._capacity_seen = capacity_snapshot(self.indices, self.controller.gpus_requested())
            self.controller.capacity.usage.take_peak()
        for index in range(self.options.workers):
            self._tasks.append(asyncio.create_task(self.controller.worker(), name=f"reconcile-worker-{index}"))
        self._tasks.append(asyncio.create_task(self.controller.resync(self.options.resync_seconds), name="resync"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self.controller.queue.close()
        if self._capacity_timer is not None:
            self._capacity_timer.cancel()
        for timeout, _ in self._deferred.values():
            timeout.cancel()
        self._deferred.clear()
        if self.metrics_server is not None:
            self.metrics_server.stop()
        await self.watches.stop()
        await self.session.close()

    def model_deployment_changed(self, key: Key, body: dict[str, Any] | None) -> None:
        """Kopf saw a ModelDeployment event (None: deleted): file its latest body, then queue a pass."""
        self.model_deployments.file(key, {key: body} if body is not None else None)
        self.enqueue(key)

    def enqueue(self, key: Key) -> None:
        if not self._tasks:
            self._start_workers()
        if self._own_echo(key):
            deferred = self._deferred.pop(key, None)
            if deferred is not None:  # what waited for this echo can run now, on fresh input
                deferred[0].cancel()
                self.controller.queue.add(key, follow_up=deferred[1])
            return
        self._add(key, self.controller.queue.add)

    def _own_echo(self, key: Key) -> bool:
        """The event is our own status write coming back (same resourceVersion): its only news is the status
        we computed, so a reconcile would be a no-op pass. Skipping it saves one to two passes per status
        write (the echo, and the re-run when it lands mid-pass), a third of all passes in bench/."""
        body = first(self.indices["md_index"].get(key))
        if body is None:
            self.client.forget_version(MODEL_DEPLOYMENTS, *key)
            self._echoed.pop(key, None)
            return False
        written = self.client.written_version(MODEL_DEPLOYMENTS, *key)
        if written is None or written != (body.get("metadata") or {}).get("resourceVersion"):
            return False
        self._echoed[key] = written
        return True

    def _add(self, key: Key, add: Callable[[Key], None], *, follow_up: bool = False) -> None:
        if not self._awaiting_echo(key, follow_up):
            add(key)

    def may_reconcile(self, key: Key) -> bool:
        """The workers ask this before each pass: a key queued by a timer (a child-event window, a retry, a
        recheck) or re-run after a dirty pass was never checked against a status write made since."""
        return not self._awaiting_echo(key, follow_up=True)

    def _awaiting_echo(self, key: Key, follow_up: bool) -> bool:
        """Hold a pass while our last status write has not come back through the watch (the "expectations"
        of Kubernetes' own controllers): the index still holds the older object, so a pass now would build
        status on stale input (conditions' lastTransitionTime reset, fields flapping) and write it twice.
        Under load the watch lags by more than the child-event window; this was a third status write for
        about a quarter of new ModelDeployments at N=100 in bench/. The echo queues the key again; a timeout
        covers an echo never seen (a relist after a dropped watch shows only the latest version)."""
        written = self.client.written_version(MODEL_DEPLOYMENTS, *key)
        if written is None or self._echoed.get(key) == written:
            return False
        body = first(self.indices["md_index"].get(key))
        if body is not None and (body.get("metadata") or {}).get("resourceVersion") == written:
            self._echoed[key] = written  # a no-op write sends no event, and the index already has it
            return False
        if key in self._deferred:  # one timeout per wait: later events must not push it back
            timer, was_follow_up = self._deferred[key]
            self._deferred[key] = (timer, was_follow_up or follow_up)
            return True

        def give_up() -> None:
            entry = self._deferred.pop(key, None)
            self._echoed[key] = written  # wait no more for this write
            self.controller.queue.add(key, follow_up=entry is not None and entry[1])

        loop = asyncio.get_running_loop()
        self._deferred[key] = (loop.call_later(self.options.echo_timeout_seconds, give_up), follow_up)
        return True

    def child_changed(self, key: Key, *, rolled_out: bool = False) -> None:
        """Children's progress comes in bursts (one event per pod step), so a pass waits out a short window to
        see the end of it; a workload that reports every replica ready ends the wait at once, since that is
        what the ModelDeployment's Ready waits for (the window was most of a small burst's time to Ready)."""
        if not self._tasks:
            # Kopf's handlers have not run yet: this is the start-up listing. Every ModelDeployment gets a pass
            # once Kopf has indexed them all (`enqueue` starts the workers), so nothing is lost.
            return
        queue = self.controller.queue
        if rolled_out and not self._is_ready(key):
            self._add(key, queue.hurry, follow_up=True)
            return
        window = self.options.child_event_window_seconds
        self._add(key, lambda k: queue.add_soon(k, window), follow_up=True)

    def _is_ready(self, key: Key) -> bool:
        return _is_ready(first(self.indices["md_index"].get(key)))

    def gpu_pod_changed(self, node: str | None) -> None:
        # Called after the pods index was updated for this event (no await in between), so the next pass
        # re-reads this node's requests.
        self.controller.capacity.usage.mark(node)
        if self._tasks:  # else, as in child_changed: the start-up listing (the workers take a baseline)
            self.capacity_changed()

    def capacity_changed(self) -> None:
        """Node, pool and GPU-pod changes re-plan, at most once per debounce window: everything when capacity
        may have grown (nodes or pools changed, a GPU pod went away), else only ModelDeployments not Ready.

        Capacity taken by other ModelDeployments' pods cannot change the plan of a Ready one (a plan never
        counts its own pods as used, and the scheduler never over-commits), while pod status churn changes
        no capacity at all. Re-planning all N objects on every GPU pod event made convergence O(N^2): a full
        pass every debounce window for as long as pods kept starting."""
        if self._capacity_timer is not None:
            return
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._capacity_timer = None
            seen = self._capacity_seen
            self._capacity_seen = capacity_snapshot(self.indices, self.controller.gpus_requested())
            # GPUs taken and freed again between two looks change nothing in the snapshots, yet a plan made in
            # between saw them taken (a pod deleted right after a ModelDeployment turned Ready around it).
            peak = self.controller.capacity.usage.take_peak()
            if self._tasks or self.indices["pools_index"].get(None):
                if not self._tasks:
                    self._start_workers()
                self.controller.queue.add(POOLS_KEY)  # PlacementPool status follows capacity
            if not self._tasks:
                return  # nothing to re-plan yet, but the snapshot is the baseline for the next change
            # Without a baseline (workers started here, by this very look), what changed before is unknown:
            # re-plan everything once.
            if seen is None or self._capacity_seen.may_have_grown_since(seen, peak):
                self.controller.enqueue_all()
            else:  # capacity only taken
                for key, store in list(self.indices["md_index"].items()):
                    if not _is_ready(first(store)):
                        self._add(key, self.controller.queue.add)

        self._capacity_timer = loop.call_later(self.options.capacity_debounce_seconds, fire)


def _is_ready(body: Any) -> bool:
    if not body:
        return False
    status = body.get("status") or {}
    if status.get("observedGeneration") != (body.get("metadata") or {}).get("generation"):
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])
