"""Leader election over a Lease on the emulated cluster, over HTTP (kube/leader_election.py, controller/leadership.py):
one holder and a stand-by that takes over at once when the holder releases; a silent holder replaced only
after the lease duration; a holder that cannot renew stops before the deadline and its reconciling client
refuses writes; a holder whose lease was taken stops at its next renewal; the settings' ordering; two
real operators, where the stand-by watches nothing and writes nothing until the leader stops, then takes
over and serves a new ModelDeployment; and an operator whose lease is taken stops on its own with
LeadershipLostError (the CLI exits 1 and the pod comes back as a stand-by)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from genai_emulator import EmulatedCluster
from genai_operator.api.crdgen import all_crds
from genai_operator.api.loading import read_documents
from genai_operator.api.resources import SERVICES
from genai_operator.controller.kopf_setup import operator_main
from genai_operator.controller.leadership import LeadershipLostError
from genai_operator.controller.runtime import RunOptions
from genai_operator.kube.client import KubeClient
from genai_operator.kube.leader_election import LeaderElector, LeaseConfig
from genai_operator.kube.session import ApiError, load_configuration
from support.operator_harness import DEPLOYMENTS, INVENTORY, MD, eventually, example, is_ready

pytestmark = pytest.mark.integration
LEASE = "coordination.k8s.io/v1/leases"


def config(identity: str, **timing: float) -> LeaseConfig:
    times = {"lease_seconds": 1.5, "renew_deadline_seconds": 1.0, "retry_seconds": 0.2, **timing}
    return LeaseConfig(namespace="default", identity=identity, **times)


@pytest.fixture
async def cluster() -> AsyncIterator[EmulatedCluster]:
    async with EmulatedCluster() as emulated:
        yield emulated


@pytest.fixture
async def clients(cluster: EmulatedCluster) -> AsyncIterator[tuple[KubeClient, KubeClient]]:
    a, b = (KubeClient(load_configuration(str(cluster.kubeconfig_path))) for _ in range(2))
    yield a, b
    await a.close()
    await b.close()


def holder(cluster: EmulatedCluster) -> str | None:
    lease = cluster.get(LEASE, "default", "genai-operator") or {}
    return (lease.get("spec") or {}).get("holderIdentity")


async def test_a_stand_by_takes_over_as_soon_as_the_holder_releases(
    cluster: EmulatedCluster, clients: tuple[KubeClient, KubeClient]
) -> None:
    a, b = LeaderElector(clients[0], config("a")), LeaderElector(clients[1], config("b"))
    never = asyncio.Event()
    assert await a.acquire(never) and holder(cluster) == "a"
    waiting = asyncio.create_task(b.acquire(never))
    await asyncio.sleep(0.5)
    assert not waiting.done() and b.holder == "a"  # standing by, and knows who leads
    released = time.monotonic()
    await a.release()
    assert await asyncio.wait_for(waiting, 2.0)
    assert time.monotonic() - released < 1.2  # its next retry (0.2-0.24 s), not a lease duration (1.5 s)
    lease = cluster.get(LEASE, "default", "genai-operator")
    assert lease is not None and lease["spec"]["holderIdentity"] == "b"
    assert lease["spec"]["leaseTransitions"] == 1


async def test_a_silent_holder_is_replaced_only_after_the_lease_duration(
    cluster: EmulatedCluster, clients: tuple[KubeClient, KubeClient]
) -> None:
    a, b = LeaderElector(clients[0], config("a")), LeaderElector(clients[1], config("b"))
    never = asyncio.Event()
    assert await a.acquire(never)  # and never renews: a crashed process
    started = time.monotonic()
    assert await asyncio.wait_for(b.acquire(never), 5.0)
    waited = time.monotonic() - started
    assert 1.5 <= waited < 3.5, waited  # the whole lease, timed from when b first saw the record
    assert holder(cluster) == "b"


async def test_a_holder_that_cannot_renew_stops_and_fences_writes(
    cluster: EmulatedCluster, clients: tuple[KubeClient, KubeClient], caplog: pytest.LogCaptureFixture
) -> None:
    lease_client, reconciling = clients
    elector = LeaderElector(lease_client, config("a", lease_seconds=3.0), on_lost=reconciling.fence)
    stopping = asyncio.Event()
    assert await elector.acquire(stopping)
    cluster.fail_next(1000, 503, resource="leases")  # the API server is unreachable for the lease
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="genai_operator.kube.leader_election"):
        await asyncio.wait_for(elector.keep(stopping), 3.0)
    renewal_warnings = [r for r in caplog.records if "503" in r.getMessage()]
    assert len(renewal_warnings) == 1  # said once, not at every retry
    stopped = time.monotonic() - started
    # Not before the renew deadline (1 s), and well before the lease (3 s) would let a stand-by in.
    assert not elector.leading and 1.0 <= stopped < 2.0, stopped
    with pytest.raises(ApiError) as refused:
        await reconciling.create(
            SERVICES,
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "late", "namespace": "default"},
                "spec": {"ports": [{"port": 80}]},
            },
        )
    assert refused.value.reason == "NotLeader" and "lost the leader lease default/genai-operator" in str(refused.value)
    assert cluster.get("v1/services", "default", "late") is None


async def test_a_holder_whose_lease_was_taken_stops_at_its_next_renewal(
    cluster: EmulatedCluster, clients: tuple[KubeClient, KubeClient]
) -> None:
    lost: list[str] = []
    elector = LeaderElector(clients[0], config("a"), on_lost=lost.append)
    stopping = asyncio.Event()
    assert await elector.acquire(stopping)
    keeping = asyncio.create_task(elector.keep(stopping))
    await asyncio.sleep(0.3)
    lease = cluster.get(LEASE, "default", "genai-operator")
    assert lease is not None
    lease["spec"]["holderIdentity"] = "intruder"  # e.g. an operator started with another lease timing
    cluster.apply(lease)
    await asyncio.wait_for(keeping, 1.0)
    assert not elector.leading and lost and "held by intruder" in lost[0]
    assert holder(cluster) == "intruder"  # never written back


def test_lease_timing_must_leave_the_old_leader_time_to_stop() -> None:
    with pytest.raises(ValueError, match="lease > renew deadline > retry period"):
        LeaseConfig(namespace="ns", identity="a", lease_seconds=10, renew_deadline_seconds=10)
    with pytest.raises(ValueError):
        LeaseConfig(namespace="ns", identity="a", retry_seconds=0)


class OperatorThread:
    """One operator with the leader lease, on a thread of its own (its own event loop)."""

    def __init__(self, cluster: EmulatedCluster, identity: str) -> None:
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        options = RunOptions(kubeconfig=str(cluster.kubeconfig_path), metrics_port=0, resync_seconds=1.0)
        election = config(identity, lease_seconds=3.0, renew_deadline_seconds=2.0, retry_seconds=0.2)

        def run() -> None:
            try:
                asyncio.run(operator_main(options, election=election, stop_flag=self.stop))
            except BaseException as exc:  # reported by the test
                self.errors.append(exc)

        self.thread = threading.Thread(target=run, name=f"operator-{identity}", daemon=True)
        self.thread.start()

    async def join(self) -> None:
        self.stop.set()
        await asyncio.to_thread(self.thread.join, 15)
        assert not self.thread.is_alive() and not self.errors, self.errors


def watches(cluster: EmulatedCluster) -> int:
    return len(cluster.emulator.recorded_requests(verb="watch"))


async def test_two_operators_one_leads_the_stand_by_takes_over_when_it_stops(cluster: EmulatedCluster) -> None:
    cluster.install_crds(list(all_crds().values()))
    cluster.add_nodes([doc for _, doc in read_documents(str(INVENTORY / "nodes.yaml"))])
    for _, doc in read_documents(str(INVENTORY / "pools.yaml")):
        doc["spec"].pop("cache", None)
        cluster.apply(doc)
    first = OperatorThread(cluster, "first")
    await eventually(lambda: holder(cluster) == "first")
    cluster.apply(example("llama-8b-bf16-l4.yaml"))
    await eventually(lambda: is_ready(cluster.get(MD, "ml", "llama-8b") or {"metadata": {}}), timeout=20)
    second = OperatorThread(cluster, "second")
    try:
        cluster.emulator.clear_recorded_requests()
        await asyncio.sleep(1.5)  # the stand-by retries the lease several times meanwhile
        seen: list[Any] = cluster.emulator.recorded_requests()
        # Writes: the leader's renewals only (its resync of a converged object writes nothing; a late Ready
        # event of Kopf's poster aside). Watches: the leader's were opened before; the stand-by opens none.
        assert {(r.verb, r.resource) for r in seen if r.is_write and r.resource != "events"} == {("update", "leases")}
        assert watches(cluster) == 0
        assert holder(cluster) == "first"
        await first.join()  # a graceful stop releases the lease
        await eventually(lambda: holder(cluster) == "second", timeout=3)
        cluster.apply(example("qwen-1.5b-gguf-edge-cpu.yaml"))
        await eventually(lambda: is_ready(cluster.get(MD, "stores", "qwen-edge") or {"metadata": {}}), timeout=20)
    finally:
        await second.join()
    lease = cluster.get(LEASE, "default", "genai-operator")
    assert lease is not None and "holderIdentity" not in lease["spec"]  # released on the way out
    assert lease["spec"]["leaseDurationSeconds"] == 1
    assert cluster.get(DEPLOYMENTS, "ml", "llama-8b-cloud-l4") is not None  # the first leader's work stands


async def test_an_operator_whose_lease_is_taken_stops_with_leadership_lost(cluster: EmulatedCluster) -> None:
    cluster.install_crds(list(all_crds().values()))
    operator = OperatorThread(cluster, "first")
    await eventually(lambda: holder(cluster) == "first")
    lease = cluster.get(LEASE, "default", "genai-operator")
    assert lease is not None
    lease["spec"]["holderIdentity"] = "intruder"
    cluster.apply(lease)
    await asyncio.to_thread(operator.thread.join, 15)  # no stop asked: it stops by itself
    assert not operator.thread.is_alive()
    assert [type(e) for e in operator.errors] == [LeadershipLostError]
    assert holder(cluster) == "intruder"  # and it did not release what is no longer its lease
