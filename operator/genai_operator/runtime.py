"""What lives for the lifetime of one operator process: client, controller, workers, metrics endpoint."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import kopf

from genai_operator.controller import Controller, Key
from genai_operator.kube.client import KubeClient, load_configuration
from genai_operator.metrics import MetricsServer, OperatorMetrics
from genai_operator.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class RunOptions:
    kubeconfig: str | None = None
    metrics_port: int = 8080  # 0: no endpoint
    metrics_host: str = "0.0.0.0"
    workers: int = 4
    resync_seconds: float = 300.0
    capacity_debounce_seconds: float = 2.0
    child_event_window_seconds: float = 0.25
    settings: Settings = field(default_factory=Settings)


class OperatorRuntime:
    def __init__(self, options: RunOptions, indices: Any) -> None:
        self.options = options
        self.indices = indices
        self.metrics = OperatorMetrics()
        self.configuration = load_configuration(options.kubeconfig)
        self.client = KubeClient(
            self.configuration, on_write=lambda verb, res: self.metrics.record_write(verb, res.kind)
        )
        self.controller = Controller(
            settings=options.settings, client=self.client, metrics=self.metrics, indices=indices
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._capacity_timer: asyncio.TimerHandle | None = None
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
        await self.controller.refresh_discovery()
        if self.options.metrics_port:
            self.metrics_server = MetricsServer(self.metrics, self.options.metrics_port, self.options.metrics_host)
            self.metrics_server.start()
            log.info("metrics on :%d/metrics, liveness on /healthz", self.metrics_server.port)

    def _start_workers(self) -> None:
        """Started from the first watch event, not at startup: tasks inherit the context they are created
        in, and only Kopf's per-object processing context carries its event poster (for `kopf.event`).
        That first event also comes after Kopf has filled every index."""
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
        if self.metrics_server is not None:
            self.metrics_server.stop()
        self.client.close()

    def enqueue(self, key: Key) -> None:
        if not self._tasks:
            self._start_workers()
        self.controller.queue.add(key)

    def child_changed(self, key: Key) -> None:
        if not self._tasks:
            self._start_workers()
        self.controller.queue.add_soon(key, self.options.child_event_window_seconds)

    def capacity_changed(self) -> None:
        """Node, pool and GPU-pod changes re-plan everything, at most once per debounce window."""
        if self._capacity_timer is not None:
            return
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._capacity_timer = None
            if self._tasks:
                self.controller.enqueue_all()

        self._capacity_timer = loop.call_later(self.options.capacity_debounce_seconds, fire)
