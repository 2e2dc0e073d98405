"""Leader election over a coordination.k8s.io Lease, the way client-go's leaderelection package does it.

Several operator replicas may run (an upgrade's new pod next to the old one, or `replicas: 2` for a quick
fail-over); only the holder of the Lease reconciles, the others stand by and retry every `retry_seconds`.
The holder renews every `retry_seconds`. When it has not renewed for `renew_deadline_seconds` it stops
leading (the process exits, and comes back as a stand-by), and its client refuses further writes. A
stand-by takes the lease only when the record has not changed for `lease_seconds`, timed on its own clock
from when it saw the record change, so clock skew between nodes does not matter; since
renew deadline < lease duration, the old leader has stopped before anyone takes over. A leader that stops
gracefully releases the lease (no holder, 1-second duration), so a stand-by takes over at its next retry
instead of waiting the lease out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from genai_operator.api.resources import LEASES
from genai_operator.formats.timestamps import to_micro_stamp
from genai_operator.kube.client import KubeClient
from genai_operator.kube.session import ApiError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeaseConfig:
    """client-go's defaults: a 15 s lease, renewed every 2 s, given up after 10 s without a renewal."""

    namespace: str
    identity: str
    name: str = "genai-operator"
    lease_seconds: float = 15.0
    renew_deadline_seconds: float = 10.0
    retry_seconds: float = 2.0

    def __post_init__(self) -> None:
        if not self.lease_seconds > self.renew_deadline_seconds > self.retry_seconds > 0:
            raise ValueError(
                "leader election needs lease > renew deadline > retry period > 0 seconds, got "
                f"{self.lease_seconds}, {self.renew_deadline_seconds}, {self.retry_seconds}"
            )


class LeaderElector:
    def __init__(
        self,
        client: KubeClient,
        config: LeaseConfig,
        *,
        on_lost: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client  # for the lease only (the reconciling client is fenced through `on_lost`)
        self.config = config
        self.on_lost = on_lost
        self.clock = clock
        self.leading = False
        self.holder: str | None = None  # who holds the lease, as last seen
        self._seen: tuple[Any, ...] | None = None  # the record as last seen, and when it changed
        self._seen_at = 0.0
        self._lease: dict[str, Any] | None = None  # the lease as we last wrote it
        self._last_error: str | None = None

    async def acquire(self, stopping: asyncio.Event) -> bool:
        """Wait until this instance holds the lease (True) or `stopping` is set (False)."""
        announced: str | None = None
        while not stopping.is_set():
            if await self._try():
                self.leading = True
                log.info(
                    "leading: holding lease %s/%s as %s", self.config.namespace, self.config.name, self.config.identity
                )
                return True
            if self.holder != announced:
                announced = self.holder
                log.info("standing by: lease %s/%s is held by %s", self.config.namespace, self.config.name, self.holder)
            await _wait(stopping, self.config.retry_seconds * (1 + 0.2 * random.random()))
        return False

    async def keep(self, stopping: asyncio.Event) -> None:
        """Renew until `stopping` is set. Returns early when leadership is lost: another holder took the
        lease, or no renewal succeeded for the renew deadline; `on_lost` is told before it returns."""
        renewed = self.clock()
        while not stopping.is_set():
            await _wait(stopping, self.config.retry_seconds)
            if stopping.is_set():
                return
            left = renewed + self.config.renew_deadline_seconds - self.clock()
            try:
                ok = left > 0 and await asyncio.wait_for(self._try(), timeout=left)
            except TimeoutError:
                ok = False
            if ok:
                renewed = self.clock()
                continue
            taken = self.holder not in (None, "", self.config.identity)
            if taken or self.clock() - renewed >= self.config.renew_deadline_seconds:
                self.leading = False
                why = f"held by {self.holder}" if taken else f"not renewed for {self.config.renew_deadline_seconds:g}s"
                if self.on_lost is not None:
                    self.on_lost(f"lost the leader lease {self.config.namespace}/{self.config.name} ({why})")
                log.error("lost the leader lease %s/%s: %s", self.config.namespace, self.config.name, why)
                return

    async def release(self) -> None:
        """Give the lease up at once (a graceful stop), so a stand-by need not wait it out."""
        if not self.leading or self._lease is None:
            return
        self.leading = False
        spec = {k: v for k, v in (self._lease.get("spec") or {}).items() if k != "holderIdentity"}
        now = to_micro_stamp(time.time())
        released = {**self._lease, "spec": {**spec, "leaseDurationSeconds": 1, "acquireTime": now, "renewTime": now}}
        try:
            await self.client.replace(LEASES, released)
            log.info("released lease %s/%s", self.config.namespace, self.config.name)
        except ApiError as exc:  # someone else holds it already, or the API is away: it expires anyway
            log.warning("could not release lease %s/%s: %s", self.config.namespace, self.config.name, exc)

    async def _try(self) -> bool:
        """One attempt to take or renew the lease: whether we hold it now."""
        cfg = self.config
        try:
            lease = await self.client.get(LEASES, cfg.namespace, cfg.name)
            now = to_micro_stamp(time.time())
            duration = math.ceil(cfg.lease_seconds)
            if lease is None:
                fresh = {
                    "holderIdentity": cfg.identity,
                    "leaseDurationSeconds": duration,
                    "acquireTime": now,
                    "renewTime": now,
                    "leaseTransitions": 0,
                }
                body = {
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {"name": cfg.name, "namespace": cfg.namespace},
                    "spec": fresh,
                }
                self._see(await self.client.create(LEASES, body))
                self._last_error = None
                return True
            self._see(lease)
            spec: dict[str, Any] = dict(lease.get("spec") or {})
            if self.holder and self.holder != cfg.identity and not self._expired(spec):
                return False
            if self.holder != cfg.identity:
                spec["acquireTime"] = now
                spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
            spec.update(holderIdentity=cfg.identity, leaseDurationSeconds=duration, renewTime=now)
            # The resourceVersion we read: if another instance wrote meanwhile, this is a 409 and we lose.
            self._see(await self.client.replace(LEASES, {**lease, "spec": spec}))
            self._last_error = None
            return True
        except ApiError as exc:
            # Once per distinct error, not every retry period while the API server is away.
            if exc.status != 409 and str(exc) != self._last_error:
                log.warning("lease %s/%s: %s", cfg.namespace, cfg.name, exc)
            self._last_error = str(exc)
            return False

    def _see(self, lease: dict[str, Any]) -> None:
        spec = lease.get("spec") or {}
        self.holder = spec.get("holderIdentity") or None
        record = (self.holder, spec.get("renewTime"), spec.get("leaseDurationSeconds"))
        if record != self._seen:
            self._seen, self._seen_at = record, self.clock()
        if self.holder == self.config.identity:
            self._lease = lease

    def _expired(self, spec: dict[str, Any]) -> bool:
        duration = float(spec.get("leaseDurationSeconds") or self.config.lease_seconds)
        return self.clock() >= self._seen_at + duration


async def _wait(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), timeout=seconds)
