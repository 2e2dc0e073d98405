"""Prometheus metrics of the operator, and the /metrics + /healthz endpoint."""

from __future__ import annotations

import threading
from collections import Counter as CountOf
from collections.abc import Hashable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)


class OperatorMetrics:
    """One registry per operator instance, so tests and the demo can run several side by side."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reconciles = Counter(
            "genai_operator_reconcile_total", "Reconcile passes by result.", ["result"], registry=self.registry
        )
        self.reconcile_seconds = Histogram(
            "genai_operator_reconcile_duration_seconds",
            "Duration of reconcile passes by result.",
            ["result"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.api_writes = Counter(
            "genai_operator_api_writes_total", "API writes by kind and verb.", ["kind", "verb"], registry=self.registry
        )
        self.deployments_by_condition = Gauge(
            "genai_operator_modeldeployments",
            "ModelDeployments by condition type and status.",
            ["condition", "status"],
            registry=self.registry,
        )
        self.gpus_requested = Gauge(
            "genai_operator_gpus_requested",
            "GPUs requested by ModelDeployment replicas, by pool.",
            ["pool"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "genai_operator_workqueue_depth", "Keys waiting for a reconcile.", registry=self.registry
        )
        self.cold_start_seconds = Gauge(
            "genai_operator_cold_start_seconds",
            "Cold start of each ModelDeployment's newest ready replica, by phase: download (the model loader), "
            "load (to Ready) and total (pod creation to Ready).",
            ["namespace", "name", "phase"],
            registry=self.registry,
        )
        self.leader = Gauge(
            "genai_operator_leader",
            "1 while this instance holds the leader lease (or runs standalone).",
            registry=self.registry,
        )
        self.leader.set(1)
        self.healthy = True
        # The label values last exported by the two tallied gauges (see _set_series).
        self._conditions_set: dict[tuple[str, ...], int] = {}
        self._gpus_set: dict[tuple[str, ...], int] = {}

    def record_write(self, verb: str, kind: str) -> None:
        self.api_writes.labels(kind=kind, verb=verb).inc()

    def set_condition_counts(self, counts: dict[tuple[str, str], int]) -> None:
        _set_series(self.deployments_by_condition, self._conditions_set, {(c, s): v for (c, s), v in counts.items()})

    def set_gpus_by_pool(self, gpus: dict[str, int]) -> None:
        _set_series(self.gpus_requested, self._gpus_set, {(pool,): value for pool, value in gpus.items()})

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _set_series(gauge: Gauge, exported: dict[tuple[str, ...], int], wanted: dict[tuple[str, ...], int]) -> None:
    """Move only the series that changed (most passes change one or none), and drop the ones now zero:
    no clear-and-refill, which cost a label lookup per series per pass and let a scrape see them missing."""
    for labels in [k for k in exported if k not in wanted]:
        gauge.remove(*labels)
        del exported[labels]
    for labels, value in wanted.items():
        if exported.get(labels) != value:
            gauge.labels(*labels).set(value)
            exported[labels] = value


class ObjectTallies:
    """ModelDeployments per condition status and GPUs per pool, moved by one object's change at a time:
    recounting all N objects on every pass was O(N^2) over a burst of N new objects."""

    def __init__(self, metrics: OperatorMetrics) -> None:
        self.metrics = metrics
        self._conditions: dict[Hashable, dict[str, str]] = {}
        self._gpus: dict[Hashable, dict[str, int]] = {}  # the last planned GPUs per pool, per object
        self._tallied_gpus: dict[Hashable, dict[str, int]] = {}
        self._condition_totals: CountOf[tuple[str, str]] = CountOf()
        self._gpu_totals: CountOf[str] = CountOf()

    def track(self, key: Hashable, status: Mapping[str, Any], gpus: dict[str, int] | None = None) -> None:
        """After a pass: its status, and its planned GPUs per pool (None: as planned before)."""
        if gpus is not None:
            self._gpus[key] = gpus
        self._retally(key, {c["type"]: c["status"] for c in status.get("conditions") or []}, self._gpus.get(key, {}))

    def forget(self, key: Hashable) -> None:
        self._retally(key, {}, {})
        self._conditions.pop(key, None)
        self._gpus.pop(key, None)
        self._tallied_gpus.pop(key, None)

    def _retally(self, key: Hashable, conditions: dict[str, str], gpus: dict[str, int]) -> None:
        before = self._conditions.get(key, {})
        if conditions != before:
            for cond, value in before.items():
                self._condition_totals[(cond, value)] -= 1
            for cond, value in conditions.items():
                self._condition_totals[(cond, value)] += 1
            self._conditions[key] = conditions
            self.metrics.set_condition_counts({k: v for k, v in self._condition_totals.items() if v})
        tallied = self._tallied_gpus.get(key, {})
        if gpus != tallied:
            for pool, count in tallied.items():
                self._gpu_totals[pool] -= count
            for pool, count in gpus.items():
                self._gpu_totals[pool] += count
            self._tallied_gpus[key] = dict(gpus)
            self.metrics.set_gpus_by_pool({k: v for k, v in self._gpu_totals.items() if v})


class MetricsServer:
    """A small threaded HTTP server: /metrics (Prometheus text) and /healthz (liveness)."""

    def __init__(self, metrics: OperatorMetrics, port: int, host: str = "0.0.0.0") -> None:
        self.metrics = metrics
        handler = _handler_for(metrics)
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="metrics", daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler_for(metrics: OperatorMetrics) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.startswith("/metrics"):
                self._reply(200, metrics.render(), CONTENT_TYPE_LATEST)
            elif self.path.startswith("/healthz"):
                ok = metrics.healthy
                self._reply(200 if ok else 503, b"ok\n" if ok else b"unhealthy\n", "text/plain")
            else:
                self._reply(404, b"not found\n", "text/plain")

        def _reply(self, code: int, body: bytes, content_type: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # scrapes every few seconds would flood the log

    return Handler
