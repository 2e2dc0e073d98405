"""Running the operator only while holding the leader lease (kube/leader_election.py says how it is held).

A stand-by serves /healthz and /metrics (`genai_operator_leader 0`) and nothing else: no watches, no
indexes, no reconciles, so it costs next to nothing until it takes over. Once it holds the lease it runs
Kopf and the runtime as a standalone operator would. If the lease is lost, the client is fenced (no more
writes), Kopf stops and `LeadershipLostError` is raised: the process exits non-zero and comes back as a stand-by
with empty indexes, rather than carrying on from a state another leader has moved past. A graceful stop
releases the lease after the runtime has stopped writing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

from genai_operator.controller.runtime import OperatorRuntime
from genai_operator.kube.client import KubeClient
from genai_operator.kube.leader_election import LeaderElector, LeaseConfig

StopFlag = asyncio.Event | threading.Event


class LeadershipLostError(RuntimeError):
    """The leader lease went to another instance or could not be renewed in time."""


async def run_as_leader(
    runtime: OperatorRuntime,
    config: LeaseConfig,
    stop_flag: StopFlag | None,
    operate: Callable[[asyncio.Event], Awaitable[None]],
) -> None:
    """Stand by until the lease is ours, then `operate(kopf_stop)` until stopped or the lease is lost."""
    stopping = asyncio.Event()
    mirror = asyncio.create_task(_mirror(stop_flag, stopping), name="stop-flag")
    # A session of its own: Kopf's cleanup closes the runtime's before the lease is released.
    lease_client = KubeClient(runtime.configuration)
    elector = LeaderElector(lease_client, config, on_lost=runtime.client.fence)
    runtime.metrics.leader.set(0)
    runtime.serve_metrics()
    try:
        if not await elector.acquire(stopping):
            await runtime.stop()  # stopped while standing by: Kopf never ran, so its cleanup will not
            return
        runtime.metrics.leader.set(1)
        kopf_stop = asyncio.Event()
        keeper = asyncio.create_task(elector.keep(stopping), name="lease-renewal")
        # Renewal ends when we are asked to stop or when the lease is lost: either way Kopf stops.
        keeper.add_done_callback(lambda _: kopf_stop.set())
        try:
            await operate(kopf_stop)
        finally:
            lost = not elector.leading
            stopping.set()
            await asyncio.gather(keeper, return_exceptions=True)
            await elector.release()  # after Kopf's cleanup stopped the runtime: no write can follow it
            runtime.metrics.leader.set(0)
        if lost:
            raise LeadershipLostError(f"lost the leader lease {config.namespace}/{config.name}")
    finally:
        mirror.cancel()
        await lease_client.close()


async def _mirror(flag: StopFlag | None, stopping: asyncio.Event) -> None:
    """Set `stopping` when the caller's stop flag is set (an asyncio or a threading event)."""
    if flag is None:
        return
    if isinstance(flag, asyncio.Event):
        await flag.wait()
    else:
        while not flag.is_set():
            await asyncio.sleep(0.1)
    stopping.set()
