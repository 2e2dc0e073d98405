"""Our list-and-watch loop (kube/watch.py) and the indexes it fills (controller/informers.py), against the emulator
over real HTTP: list then watch, resume after a dropped watch without relisting, relist on 410 Gone (dropping
what vanished meanwhile), back off on errors, optional kinds only while their API exists, clean stop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from genai_emulator import EmulatedCluster
from genai_operator.api.resources import SERVICES
from genai_operator.controller.indexes import Index, Indices
from genai_operator.controller.informers import (
    GPU_PODS_INDEX,
    MANAGED_SELECTOR,
    OWN_PODS_INDEX,
    GpuPod,
    OwnPod,
    WatchedIndexes,
    child_entries,
    gpu_pod_entries,
    own_pod_entries,
    route_child,
    route_pod,
)
from genai_operator.kube.session import ApiSession, load_configuration
from genai_operator.kube.watch import Backoff, Watcher
from genai_operator.settings import Settings
from support.operator_harness import eventually

SVC = "v1/services"
OURS = {"app.kubernetes.io/managed-by": "genai-operator", "genaiops.dev/model-deployment": "m"}


class Router:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.rolled_out: list[bool] = []

    def child_changed(self, key: tuple[str, str], *, rolled_out: bool = False) -> None:
        self.calls.append(("child", key))
        self.rolled_out.append(rolled_out)

    def gpu_pod_changed(self, node: str | None) -> None:
        self.calls.append(("gpu", node))


class Feed:
    def __init__(self, router: Router) -> None:
        self.index, self.router = Index(), router

    def changed(self, obj: dict[str, Any], deleted: bool) -> None:
        meta = obj["metadata"]
        self.index.file((meta.get("namespace"), meta["name"]), None if deleted else child_entries(obj))
        route_child(self.router, obj)

    def vanished(self, key: tuple[str | None, str]) -> None:
        self.router.calls.append(("vanished", key))
        self.index.file(key, None)


def service(name: str, owner: str = "m", labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": "ml",
            "labels": labels if labels is not None else {**OURS, "genaiops.dev/model-deployment": owner},
        },
        "spec": {"ports": [{"port": 80}]},
    }


def names(feed: Feed, owner: str = "m") -> set[str]:
    return {obj["metadata"]["name"] for obj in feed.index.get(("ml", owner)) or ()}


@pytest.fixture
async def cluster() -> AsyncIterator[EmulatedCluster]:
    async with EmulatedCluster(simulate_workloads=False) as emulated:
        yield emulated


@pytest.fixture
async def watched(cluster: EmulatedCluster) -> AsyncIterator[tuple[Watcher, Feed]]:
    cluster.apply(service("a"))
    cluster.apply(service("foreign", labels={"app": "x"}))
    session = ApiSession(load_configuration(str(cluster.kubeconfig_path)))
    feed = Feed(Router())
    watcher = Watcher(session, SERVICES, feed, label_selector=MANAGED_SELECTOR, backoff=Backoff(0.05, 0.2))
    task = asyncio.create_task(watcher.run())
    await asyncio.wait_for(watcher.synced.wait(), 5)
    yield watcher, feed
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await session.close()


def requests(cluster: EmulatedCluster, verb: str) -> list[Any]:
    return cluster.recorded_requests(verb=verb, resource="services")


async def test_lists_then_follows_changes(cluster: EmulatedCluster, watched: tuple[Watcher, Feed]) -> None:
    watcher, feed = watched
    assert names(feed) == {"a"}  # the label selector kept the foreign Service out
    listed = next(iter(feed.index.get(("ml", "m"))))
    assert listed["kind"] == "Service" and listed["apiVersion"] == "v1"  # list items get their kind back
    cluster.apply(service("b"))
    cluster.apply(service("c", owner="n"))
    await eventually(lambda: names(feed) == {"a", "b"} and names(feed, "n") == {"c"})
    cluster.delete(SVC, "ml", "b")
    await eventually(lambda: names(feed) == {"a"})
    assert ("child", ("ml", "n")) in feed.router.calls
    watch = requests(cluster, "watch")[0]
    assert watch.params["allowWatchBookmarks"] == "true" and watch.params["labelSelector"] == MANAGED_SELECTOR
    assert watch.params["resourceVersion"] not in ("", "0") and watcher.relists == 0


async def test_a_dropped_watch_resumes_without_a_relist(
    cluster: EmulatedCluster, watched: tuple[Watcher, Feed]
) -> None:
    watcher, feed = watched
    cluster.drop_watches()
    cluster.apply(service("b"))
    await eventually(lambda: names(feed) == {"a", "b"})
    await eventually(lambda: len(requests(cluster, "watch")) == 2)
    assert watcher.relists == 0 and len(requests(cluster, "list")) == 1


async def test_errors_back_off_then_410_relists_and_drops_what_vanished(
    cluster: EmulatedCluster, watched: tuple[Watcher, Feed]
) -> None:
    watcher, feed = watched
    cluster.apply(service("b"))
    await eventually(lambda: names(feed) == {"a", "b"})
    cluster.fail_next(2, 500, method="watch", resource="services")
    cluster.fail_next(1, 410, method="watch", resource="services")
    cluster.drop_watches()
    await eventually(lambda: len(requests(cluster, "watch")) >= 2)  # the first retry failed: no watch open
    cluster.delete(SVC, "ml", "b")  # unseen by any watch
    cluster.apply(service("c"))
    await eventually(lambda: watcher.relists == 1)
    assert names(feed) == {"a", "c"}
    assert ("vanished", ("ml", "b")) in feed.router.calls
    assert [r.status for r in requests(cluster, "watch")][1:4] == [500, 500, 410]
    cluster.apply(service("d"))  # and it watches again
    await eventually(lambda: names(feed) == {"a", "c", "d"})


async def test_an_expired_version_in_the_stream_relists() -> None:
    async with EmulatedCluster(simulate_workloads=False, emulator_options={"event_capacity": 4}) as small:
        session = ApiSession(load_configuration(str(small.kubeconfig_path)))
        other = Feed(Router())
        watcher = Watcher(session, SERVICES, other, label_selector=MANAGED_SELECTOR, backoff=Backoff(0.05, 0.2))
        task = asyncio.create_task(watcher.run())
        try:
            await asyncio.wait_for(watcher.synced.wait(), 5)
            small.drop_watches()
            for index in range(12):  # more events than the log keeps, before the watch resumes
                small.apply(service(f"s{index}"))
            await eventually(lambda: len(names(other)) == 12)
            assert watcher.relists >= 1
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await session.close()


async def test_optional_kinds_are_watched_only_while_their_api_exists(cluster: EmulatedCluster) -> None:
    router = Router()
    session = ApiSession(load_configuration(str(cluster.kubeconfig_path)))
    watches = WatchedIndexes(session, Settings(), router, namespaces=["ml"])
    watches.start()
    await asyncio.wait_for(watches.enable({"keda.sh": False, "monitoring.coreos.com": False}), 5)
    assert not cluster.recorded_requests(resource="scaledobjects")
    assert not cluster.recorded_requests(resource="servicemonitors")
    assert {r.namespace for r in cluster.recorded_requests(resource="pods")} == {"ml"}
    indices = Indices(watches.indices, {"nodes_index": "kopf's"})
    assert indices["nodes_index"] == "kopf's" and indices[GPU_PODS_INDEX] is watches.indices[GPU_PODS_INDEX]
    assert indices[OWN_PODS_INDEX] is watches.indices[OWN_PODS_INDEX]
    assert "children_scaledobjects" in indices and set(indices) >= {"nodes_index", "children_deployments"}
    await asyncio.wait_for(watches.stop(), 5)
    await session.close()
    tasks = [t for t in asyncio.all_tasks() if (t.get_name() or "").startswith("watch-")]
    assert not tasks


def test_namespace_patterns_are_refused() -> None:
    with pytest.raises(ValueError, match="patterns"):
        WatchedIndexes(None, Settings(), Router(), namespaces=["ml-*"])  # type: ignore[arg-type]


def test_an_index_files_entries_by_object_and_key() -> None:
    index: Index[str, int] = Index()
    index.file(("ns", "p1"), {"node-a": 1, "node-c": 4})
    index.file(("ns", "p2"), {"node-a": 2})
    assert sorted(index.get("node-a")) == [1, 2] and list(index.get("node-c")) == [4]
    assert index.file(("ns", "p1"), {"node-b": 3}) == {"node-a": 1, "node-c": 4}
    assert list(index["node-a"]) == [2] and index.get("node-c") is None and set(index) == {"node-a", "node-b"}
    index.file(("ns", "p2"), None)
    assert len(index) == 1 and index.get("node-a", ()) == ()


def test_a_pod_files_by_node_for_capacity_and_by_model_deployment_for_status() -> None:
    gpu = {"containers": [{"resources": {"limits": {"nvidia.com/gpu": "2"}}}], "nodeName": "n1"}
    ours = {"metadata": {"namespace": "ns", "labels": {**OURS, "genaiops.dev/pool": "p"}}, "spec": gpu}
    assert gpu_pod_entries(ours) == {"n1": GpuPod(("ns", "m"), 2)}
    assert own_pod_entries(ours) == {("ns", "m"): OwnPod("p", True, None, None)}
    theirs = {"metadata": {"namespace": "other", "labels": {}}, "spec": gpu}
    assert gpu_pod_entries(theirs) == {"n1": GpuPod(("other", ""), 2)} and own_pod_entries(theirs) is None
    pending = {**ours, "spec": {"containers": []}}
    assert gpu_pod_entries(pending) is None and own_pod_entries(pending) == {
        ("ns", "m"): OwnPod("p", False, None, None)
    }
    done = {**ours, "status": {"phase": "Succeeded"}}
    assert gpu_pod_entries(done) is None and own_pod_entries(done) is None


def test_routing_tells_the_runtime_about_our_children_and_gpu_pods() -> None:
    router = Router()
    gpu = {"containers": [{"resources": {"limits": {"nvidia.com/gpu": "1"}}}], "nodeName": "n1"}
    route_child(router, {"kind": "Deployment", "metadata": {"namespace": "ns", "labels": OURS}})
    route_child(router, {"kind": "Deployment", "metadata": {"namespace": "ns", "labels": {"app": "x"}}})
    route_pod(router, {"kind": "Pod", "metadata": {"namespace": "ns", "labels": OURS}, "spec": gpu})
    route_pod(router, {"kind": "Pod", "metadata": {"namespace": "other", "labels": {}}, "spec": gpu})
    route_pod(router, {"kind": "Pod", "metadata": {"namespace": "other", "labels": {}}, "spec": {"containers": []}})
    assert router.calls == [("child", ("ns", "m")), ("child", ("ns", "m")), ("gpu", "n1"), ("gpu", "n1")]


def test_a_workload_with_every_replica_ready_is_routed_as_rolled_out() -> None:
    router = Router()
    meta = {"namespace": "ns", "labels": OURS, "generation": 2}
    spec = {"replicas": 2}
    for status in (
        {"observedGeneration": 2, "readyReplicas": 2, "updatedReplicas": 2},
        {"observedGeneration": 2, "readyReplicas": 1, "updatedReplicas": 2},
        {"observedGeneration": 1, "readyReplicas": 2, "updatedReplicas": 2},
    ):  # the controller lags
        route_child(router, {"kind": "Deployment", "metadata": meta, "spec": spec, "status": status})
    route_child(
        router,
        {
            "kind": "StatefulSet",
            "metadata": meta,
            "spec": spec,
            "status": {"observedGeneration": 2, "readyReplicas": 2, "updatedReplicas": 2},
        },
    )
    route_child(router, {"kind": "Service", "metadata": meta, "spec": {}})
    assert router.rolled_out == [True, False, False, True, False]
