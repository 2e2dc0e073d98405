"""The emulator's kubelet and controllers for model loaders and model caches, over real HTTP.

Covers: init container statuses as a kubelet reports them (Completed before the containers run),
the init-container fault hooks (`fail_init_container` -> CrashLoopBackOff / Failed, `hold_init_containers`
-> a loader still running, and clearing both), the StatefulSet controller (ordinal pods and their
labels, OrderedReady vs Parallel, scale up and down, rolling updates from the highest ordinal with and
without maxUnavailable, status and revisions, claims from volumeClaimTemplates, retention policies,
garbage collection), and PersistentVolumeClaims (immediate and WaitForFirstConsumer binding, node-local
pinning, the default StorageClass, spec immutability and growth, pods whose claim is missing).

Driven through the `kubernetes` client against `EmulatedCluster.in_thread()`, as tests/emulated/test_emulator.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import kubernetes
import pytest
from kubernetes.client import ApiException

from genai_emulator import EmulatedCluster, ThreadedCluster
from genai_emulator.store import Change
from support.emulator_clients import wait_for

NS = "ml"
LOADER = {"name": "model-loader", "image": "ghcr.io/genaiops/loader:1.0"}


def node(name: str) -> dict[str, Any]:
    resources = {"cpu": "8", "memory": "32Gi", "pods": "110"}
    return {
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": [{"type": "Ready", "status": "True"}],
            "addresses": [{"type": "InternalIP", "address": f"10.0.0.{name[-1]}"}],
        },
    }


@pytest.fixture
def cluster() -> Iterator[ThreadedCluster]:
    with EmulatedCluster.in_thread(nodes=[node("node-1"), node("node-2")]) as running:
        yield running


def pod_history(cluster: ThreadedCluster) -> list[tuple[str, str]]:
    """(event, pod name) of every pod ADDED / DELETED, in store order (the controllers' write order)."""
    seen: list[tuple[str, str]] = []

    def listen(change: Change) -> None:
        if change.spec.plural == "pods" and change.type in ("ADDED", "DELETED"):
            seen.append((change.type, str(change.obj["metadata"]["name"])))

    cluster.call(cluster.emulator.store.subscribe, listen)
    return seen


def pod_template(app: str, *, init: tuple[dict[str, Any], ...] = (LOADER,), **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"labels": {"app": app}},
        "spec": {
            "initContainers": [dict(c) for c in init],
            "containers": [
                {
                    "name": "vllm",
                    "image": "vllm/vllm-openai:v0.6.4",
                    "resources": {"requests": {"cpu": "1", "memory": "1Gi"}},
                }
            ],
            **spec,
        },
    }


def deployment(name: str, replicas: int = 1, **template: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": pod_template(name, **template),
        },
    }


def statefulset(
    name: str,
    replicas: int = 3,
    *,
    policy: str = "OrderedReady",
    size: str = "10Gi",
    storage_class: str | None = None,
    **spec: Any,
) -> dict[str, Any]:
    claim_spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class:
        claim_spec["storageClassName"] = storage_class
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "podManagementPolicy": policy,
            "selector": {"matchLabels": {"app": name}},
            "template": pod_template(name),
            "volumeClaimTemplates": [
                {"metadata": {"name": "model-cache", "labels": {"cache": "yes"}}, "spec": claim_spec}
            ],
            **spec,
        },
    }


def claim(name: str, size: str = "5Gi", storage_class: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return {"metadata": {"name": name}, "spec": spec}


def pod_with_claim(name: str, claim_name: str, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "containers": [{"name": "c", "image": "busybox:1.36"}],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim_name}}],
            **spec,
        },
    }


def pods(core: kubernetes.client.CoreV1Api, selector: str) -> list[Any]:
    return sorted(core.list_namespaced_pod(NS, label_selector=selector).items, key=lambda p: p.metadata.name)


def conditions(pod: Any) -> dict[str, tuple[str, str | None]]:
    return {c.type: (c.status, c.reason) for c in (pod.status and pod.status.conditions) or []}


def is_ready(pod: Any) -> bool:
    return pod.status is not None and pod.status.phase == "Running" and conditions(pod).get("Ready", ("",))[0] == "True"


def all_ready(core: kubernetes.client.CoreV1Api, selector: str, count: int) -> list[Any]:
    found = pods(core, selector)
    return found if len(found) == count and all(is_ready(p) for p in found) else []


# -- init containers --------------------------------------------------------------------------


def test_init_containers_complete_before_the_containers_run(
    apps: kubernetes.client.AppsV1Api, core: kubernetes.client.CoreV1Api
) -> None:
    fetch = {"name": "fetch", "image": "busybox:1.36"}
    apps.create_namespaced_deployment(NS, deployment("llm", init=(LOADER, fetch)))
    pod = wait_for(lambda: all_ready(core, "app=llm", 1))[0]
    assert conditions(pod)["Initialized"] == ("True", None)
    inits = pod.status.init_container_statuses
    assert [(s.name, s.image, s.ready, s.restart_count) for s in inits] == [
        ("model-loader", LOADER["image"], True, 0),
        ("fetch", "busybox:1.36", True, 0),
    ]
    for status in inits:
        done = status.state.terminated
        assert (done.exit_code, done.reason) == (0, "Completed")
        assert done.started_at and done.finished_at and status.state.running is None
    assert pod.status.container_statuses[0].state.running is not None


def test_failing_init_container_crash_loops_until_cleared(
    apps: kubernetes.client.AppsV1Api, core: kubernetes.client.CoreV1Api, cluster: ThreadedCluster
) -> None:
    apps.create_namespaced_deployment(NS, deployment("llm", replicas=2))
    wait_for(lambda: all_ready(core, "app=llm", 2))
    message = "Unauthorized: model hf://meta-llama/x: 401 from huggingface.co"
    cluster.fail_init_container(NS, "app=llm", message=message)  # existing pods, by label selector
    apps.patch_namespaced_deployment_scale("llm", NS, {"spec": {"replicas": 3}})  # and a future one

    def crash_looping() -> list[Any]:
        found = pods(core, "app=llm")
        return found if len(found) == 3 and all(p.status.phase == "Pending" for p in found) else []

    for pod in wait_for(crash_looping):
        loader = pod.status.init_container_statuses[0]
        assert loader.state.waiting.reason == "CrashLoopBackOff"
        assert loader.state.waiting.message.startswith(
            f"back-off 10s restarting failed container=model-loader pod={pod.metadata.name}_{NS}("
        )
        last = loader.last_state.terminated
        assert (last.exit_code, last.reason, last.message) == (1, "Error", message)
        assert (loader.ready, loader.restart_count) == (False, 1)
        assert conditions(pod)["Initialized"] == ("False", "ContainersNotInitialized")
        assert conditions(pod)["Ready"] == ("False", "ContainersNotReady")
        assert pod.status.container_statuses[0].state.waiting.reason == "PodInitializing"
        assert pod.status.pod_ip  # the sandbox is up; only the init container fails
    status = wait_for(
        lambda: (
            (s := apps.read_namespaced_deployment_status("llm", NS).status)
            and s.replicas == 3
            and not s.ready_replicas
            and s
        )
    )
    assert status.unavailable_replicas == 3

    cluster.clear_init_failures()
    for pod in wait_for(lambda: all_ready(core, "app=llm", 3)):
        loader = pod.status.init_container_statuses[0]
        assert (loader.state.terminated.reason, loader.ready) == ("Completed", True)
        assert (loader.restart_count, loader.last_state.terminated.message) == (1, message)  # as a kubelet keeps them
        assert conditions(pod)["Initialized"] == ("True", None)
    wait_for(lambda: apps.read_namespaced_deployment_status("llm", NS).status.ready_replicas == 3)


def test_held_init_container_and_failures_of_later_init_containers(
    core: kubernetes.client.CoreV1Api, cluster: ThreadedCluster
) -> None:
    cluster.hold_init_containers(NS, "loading-")  # by pod-name prefix
    second = {"name": "verify", "image": "busybox:1.36"}
    cluster.fail_init_container(NS, "broken", container="verify", exit_code=3, reason="Error", message="bad sum")
    cluster.fail_init_container(NS, "final", message="gone")
    for name in ("loading-1", "broken-1"):
        core.create_namespaced_pod(NS, {**pod_template(name, init=(LOADER, second)), "metadata": {"name": name}})
    core.create_namespaced_pod(NS, {**pod_template("final", restartPolicy="Never"), "metadata": {"name": "final-1"}})

    def status_of(name: str) -> Any:
        pod = core.read_namespaced_pod(name, NS)
        return pod if pod.status and pod.status.init_container_statuses else None

    loading = wait_for(lambda: status_of("loading-1"))
    loader, verify = loading.status.init_container_statuses
    assert (loader.state.running is not None, loader.ready, loader.started) == (True, False, True)
    assert verify.state.waiting.reason == "PodInitializing"
    assert loading.status.phase == "Pending"
    assert (
        next(c.message for c in loading.status.conditions if c.type == "Initialized")
        == "containers with incomplete status: [model-loader verify]"
    )

    broken = wait_for(lambda: status_of("broken-1"))
    loader, verify = broken.status.init_container_statuses
    assert loader.state.terminated.reason == "Completed"
    assert verify.state.waiting.reason == "CrashLoopBackOff"
    assert (verify.last_state.terminated.exit_code, verify.last_state.terminated.message) == (3, "bad sum")

    final = wait_for(lambda: status_of("final-1"))  # restartPolicy Never: no back-off, the pod fails
    assert final.status.phase == "Failed"
    assert final.status.init_container_statuses[0].state.terminated.exit_code == 1

    cluster.release_init_containers()
    loaded = wait_for(lambda: (p := core.read_namespaced_pod("loading-1", NS)) and is_ready(p) and p)
    assert [s.state.terminated.reason for s in loaded.status.init_container_statuses] == ["Completed"] * 2
    time.sleep(0.1)
    assert core.read_namespaced_pod("broken-1", NS).status.phase == "Pending"  # its rule still holds
    cluster.clear_init_failures()
    wait_for(lambda: is_ready(core.read_namespaced_pod("broken-1", NS)))
    assert core.read_namespaced_pod("final-1", NS).status.phase == "Failed"  # a failed pod stays failed


# -- StatefulSets -----------------------------------------------------------------------------


def test_statefulset_ordered_ready_pods_claims_defaults_and_status(
    apps: kubernetes.client.AppsV1Api, core: kubernetes.client.CoreV1Api, cluster: ThreadedCluster
) -> None:
    history = pod_history(cluster)
    cluster.hold_init_containers(NS, "web-")
    created = apps.create_namespaced_stateful_set(NS, statefulset("web", 3))
    spec = created.spec
    assert (spec.pod_management_policy, spec.revision_history_limit) == ("OrderedReady", 10)
    assert (spec.update_strategy.type, spec.update_strategy.rolling_update.partition) == ("RollingUpdate", 0)
    retention = spec.persistent_volume_claim_retention_policy
    assert (retention.when_deleted, retention.when_scaled) == ("Retain", "Retain")
    template = spec.volume_claim_templates[0]
    assert (template.spec.volume_mode, template.status.phase) == ("Filesystem", "Pending")

    wait_for(lambda: pods(core, "app=web"))
    time.sleep(0.15)  # OrderedReady: web-1 waits for web-0, which is still loading
    assert [p.metadata.name for p in pods(core, "app=web")] == ["web-0"]
    cluster.release_init_containers()
    ready = wait_for(lambda: all_ready(core, "app=web", 3))
    assert [name for event, name in history if event == "ADDED"] == ["web-0", "web-1", "web-2"]

    sts = apps.read_namespaced_stateful_set_status("web", NS)
    revision = sts.status.update_revision
    assert revision.startswith("web-") and sts.status.current_revision == revision
    assert (
        sts.status.replicas,
        sts.status.ready_replicas,
        sts.status.available_replicas,
        sts.status.current_replicas,
        sts.status.updated_replicas,
        sts.status.collision_count,
        sts.status.observed_generation,
    ) == (3, 3, 3, 3, 3, 0, 1)
    for ordinal, pod in enumerate(ready):
        name = f"web-{ordinal}"
        assert pod.metadata.labels == {
            "app": "web",
            "controller-revision-hash": revision,
            "statefulset.kubernetes.io/pod-name": name,
            "apps.kubernetes.io/pod-index": str(ordinal),
        }
        owner = pod.metadata.owner_references[0]
        assert (owner.kind, owner.name, owner.uid, owner.controller) == (
            "StatefulSet",
            "web",
            created.metadata.uid,
            True,
        )
        assert (pod.spec.hostname, pod.spec.subdomain) == (name, "web")
        volume = pod.spec.volumes[0]
        assert (volume.name, volume.persistent_volume_claim.claim_name) == ("model-cache", f"model-cache-{name}")
        pvc = core.read_namespaced_persistent_volume_claim(f"model-cache-{name}", NS)
        assert pvc.metadata.labels == {"cache": "yes", "app": "web"} and pvc.metadata.owner_references is None
        assert (pvc.status.phase, pvc.status.capacity) == ("Bound", {"storage": "10Gi"})
    scale = apps.read_namespaced_stateful_set_scale("web", NS)
    assert (scale.spec.replicas, scale.status.replicas, scale.status.selector) == (3, 3, "app=web")


def test_statefulset_scaling_parallel_and_ordered(
    apps: kubernetes.client.AppsV1Api, core: kubernetes.client.CoreV1Api, cluster: ThreadedCluster
) -> None:
    history = pod_history(cluster)
    cluster.hold_init_containers(NS, "par-")
    apps.create_namespaced_stateful_set(NS, statefulset("par", 3, policy="Parallel"))
    wait_for(lambda: len(pods(core, "app=par")) == 3)  # all at once, although none is ready
    cluster.release_init_containers()
    wait_for(lambda: all_ready(core, "app=par", 3))
    apps.patch_namespaced_stateful_set_scale("par", NS, {"spec": {"replicas": 1}})
    wait_for(lambda: [p.metadata.name for p in pods(core, "app=par")] == ["par-0"])
    claims = {c.metadata.name for c in core.list_namespaced_persistent_volume_claim(NS).items}
    assert claims == {"model-cache-par-0", "model-cache-par-1", "model-cache-par-2"}  # whenScaled: Retain

    apps.create_namespaced_stateful_set(NS, statefulset("ord", 3))
    wait_for(lambda: all_ready(core, "app=ord", 3))
    history.clear()
    apps.patch_namespaced_stateful_set_scale("ord", NS, {"spec": {"replicas": 1}})
    wait_for(lambda: len(pods(core, "app=ord")) == 1)
    assert history == [("DELETED", "ord-2"), ("DELETED", "ord-1")]  # highest first
    apps.patch_namespaced_stateful_set_scale("ord", NS, {"spec": {"replicas": 2}})
    wait_for(lambda: all_ready(core, "app=ord", 2))
    wait_for(lambda: apps.read_namespaced_stateful_set_status("ord", NS).status.ready_replicas == 2)
    assert apps.read_namespaced_stateful_set_status("ord", NS).status.replicas == 2


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({}, ["D2", "A2", "D1", "A1", "D0", "A0"]),  # one at a time, waiting for readiness
        ({"maxUnavailable": 2}, ["D2", "D1", "A1", "A2", "D0", "A0"]),  # two at once; created in ordinal order
    ],
)
def test_statefulset_rolling_update_from_the_highest_ordinal(
    apps: kubernetes.client.AppsV1Api,
    core: kubernetes.client.CoreV1Api,
    cluster: ThreadedCluster,
    extra: dict[str, Any],
    expected: list[str],
) -> None:
    history = pod_history(cluster)
    body = statefulset(
        "roll",
        3,
        policy="Parallel",
        updateStrategy={"type": "RollingUpdate", "rollingUpdate": {"partition": 0, **extra}},
    )
    apps.create_namespaced_stateful_set(NS, body)
    wait_for(lambda: all_ready(core, "app=roll", 3))
    old = apps.read_namespaced_stateful_set_status("roll", NS).status.update_revision
    history.clear()
    apps.patch_namespaced_stateful_set(
        "roll", NS, {"spec": {"template": {"metadata": {"annotations": {"genaiops.dev/restartedAt": "now"}}}}}
    )

    def rolled() -> Any:
        status = apps.read_namespaced_stateful_set_status("roll", NS).status
        return (
            status.observed_generation == 2
            and status.current_revision == status.update_revision != old
            and status.updated_replicas == 3
            and status.ready_replicas == 3
            and status
        )

    status = wait_for(rolled)
    assert status.current_replicas == 3
    assert [f"{event[0]}{name[-1]}" for event, name in history] == expected
    assert {p.metadata.labels["controller-revision-hash"] for p in pods(core, "app=roll")} == {status.update_revision}


def test_statefulset_claim_retention_and_garbage_collection(
    apps: kubernetes.client.AppsV1Api, core: kubernetes.client.CoreV1Api
) -> None:
    deleting = statefulset(
        "gone",
        2,
        policy="Parallel",
        persistentVolumeClaimRetentionPolicy={"whenDeleted": "Delete", "whenScaled": "Delete"},
    )
    sts = apps.create_namespaced_stateful_set(NS, deleting)
    apps.create_namespaced_stateful_set(NS, statefulset("kept", 1))
    wait_for(lambda: all_ready(core, "app=gone", 2) and all_ready(core, "app=kept", 1))
    owner = core.read_namespaced_persistent_volume_claim("model-cache-gone-0", NS).metadata.owner_references[0]
    assert (owner.kind, owner.name, owner.uid, owner.controller) == ("StatefulSet", "gone", sts.metadata.uid, True)

    def claims() -> set[str]:
        return {c.metadata.name for c in core.list_namespaced_persistent_volume_claim(NS).items}

    apps.patch_namespaced_stateful_set_scale("gone", NS, {"spec": {"replicas": 1}})
    wait_for(lambda: "model-cache-gone-1" not in claims())  # whenScaled: Delete, via the condemned pod
    apps.delete_namespaced_stateful_set("gone", NS)
    apps.delete_namespaced_stateful_set("kept", NS)
    wait_for(lambda: not pods(core, "app in (gone, kept)"))
    assert claims() == {"model-cache-kept-0"}  # Retain keeps the cache for a StatefulSet that comes back


# -- PersistentVolumeClaims -------------------------------------------------------------------


def test_claims_bind_at_once_unless_the_class_waits_for_a_consumer(
    core: kubernetes.client.CoreV1Api, storage: kubernetes.client.StorageV1Api
) -> None:
    created = core.create_namespaced_persistent_volume_claim(NS, claim("now", "5Gi"))
    assert (created.spec.volume_mode, created.status.phase) == ("Filesystem", "Pending")
    bound = wait_for(
        lambda: (c := core.read_namespaced_persistent_volume_claim("now", NS)) and c.status.phase == "Bound" and c
    )
    assert (bound.status.capacity, bound.status.access_modes) == ({"storage": "5Gi"}, ["ReadWriteOnce"])
    assert bound.spec.volume_name == f"pvc-{created.metadata.uid}"
    assert bound.metadata.annotations["pv.kubernetes.io/bind-completed"] == "yes"

    local = storage.create_storage_class(
        {
            "metadata": {"name": "local"},
            "provisioner": "rancher.io/local-path",
            "volumeBindingMode": "WaitForFirstConsumer",
        }
    )
    assert local.reclaim_policy == "Delete"
    core.create_namespaced_persistent_volume_claim(NS, claim("cache", "20Gi", "local"))
    time.sleep(0.15)
    assert core.read_namespaced_persistent_volume_claim("cache", NS).status.phase == "Pending"
    core.create_namespaced_pod(NS, pod_with_claim("first", "cache"))
    first = wait_for(lambda: (p := core.read_namespaced_pod("first", NS)) and is_ready(p) and p)
    cache = core.read_namespaced_persistent_volume_claim("cache", NS)
    assert cache.status.phase == "Bound"
    assert cache.metadata.annotations["volume.kubernetes.io/selected-node"] == first.spec.node_name
    assert cache.metadata.annotations["volume.kubernetes.io/storage-provisioner"] == "rancher.io/local-path"
    # The volume is node-local: a pod elsewhere cannot use it.
    other = "node-2" if first.spec.node_name == "node-1" else "node-1"
    core.create_namespaced_pod(NS, pod_with_claim("elsewhere", "cache", nodeSelector={"kubernetes.io/hostname": other}))
    pending = wait_for(lambda: (p := core.read_namespaced_pod("elsewhere", NS)) and conditions(p) and p)
    assert pending.status.conditions[0].message == (
        "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
        "1 node(s) had volume node affinity conflict."
    )


def test_pod_with_a_missing_claim_is_unschedulable_until_it_exists(core: kubernetes.client.CoreV1Api) -> None:
    core.create_namespaced_pod(NS, pod_with_claim("waiting", "later"))
    pod = wait_for(lambda: (p := core.read_namespaced_pod("waiting", NS)) and conditions(p) and p)
    condition = pod.status.conditions[0]
    assert (condition.type, condition.status, condition.reason) == ("PodScheduled", "False", "Unschedulable")
    assert condition.message == '0/2 nodes are available: persistentvolumeclaim "later" not found.'
    assert pod.spec.node_name is None
    core.create_namespaced_persistent_volume_claim(NS, claim("later"))
    wait_for(lambda: is_ready(core.read_namespaced_pod("waiting", NS)))


def test_claim_spec_is_immutable_except_growing_a_bound_request(
    core: kubernetes.client.CoreV1Api, storage: kubernetes.client.StorageV1Api
) -> None:
    storage.create_storage_class(
        {
            "metadata": {"name": "std", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "csi.example.com",
            "allowVolumeExpansion": True,
        }
    )
    storage.create_storage_class({"metadata": {"name": "fixed"}, "provisioner": "csi.example.com"})
    created = core.create_namespaced_persistent_volume_claim(NS, claim("c", "10Gi"))
    assert created.spec.storage_class_name == "std"  # the DefaultStorageClass admission plugin
    wait_for(lambda: core.read_namespaced_persistent_volume_claim("c", NS).status.phase == "Bound")

    def rejected(patch: dict[str, Any], name: str = "c") -> tuple[int, str, list[Any]]:
        with pytest.raises(ApiException) as error:
            core.patch_namespaced_persistent_volume_claim(name, NS, patch)
        body = json.loads(error.value.body)
        return error.value.status, body["message"], body.get("details", {}).get("causes", [])

    status, message, causes = rejected({"spec": {"accessModes": ["ReadWriteMany"]}})
    assert (status, message) == (
        422,
        'PersistentVolumeClaim "c" is invalid: spec: Forbidden: spec is immutable '
        "after creation except resources.requests and volumeAttributesClassName "
        "for bound claims",
    )
    assert causes[0]["field"] == "spec" and causes[0]["reason"] == "FieldValueForbidden"
    status, message, _ = rejected({"spec": {"resources": {"requests": {"storage": "5Gi"}}}})
    assert (status, message) == (
        422,
        'PersistentVolumeClaim "c" is invalid: spec.resources.requests.storage: '
        "Forbidden: field can not be less than previous value",
    )
    grown = core.patch_namespaced_persistent_volume_claim(
        "c", NS, {"spec": {"resources": {"requests": {"storage": "20Gi"}}}}
    )
    assert grown.spec.resources.requests == {"storage": "20Gi"}
    wait_for(lambda: core.read_namespaced_persistent_volume_claim("c", NS).status.capacity == {"storage": "20Gi"})

    core.create_namespaced_persistent_volume_claim(NS, claim("f", "1Gi", "fixed"))
    wait_for(lambda: core.read_namespaced_persistent_volume_claim("f", NS).status.phase == "Bound")
    status, message, _ = rejected({"spec": {"resources": {"requests": {"storage": "2Gi"}}}}, "f")
    assert status == 403 and "the storageclass that provisions the pvc must support resize" in message

    storage.create_storage_class(
        {
            "metadata": {"name": "wait"},
            "provisioner": "x",
            "volumeBindingMode": "WaitForFirstConsumer",
            "allowVolumeExpansion": True,
        }
    )
    core.create_namespaced_persistent_volume_claim(NS, claim("p", "1Gi", "wait"))
    status, message, _ = rejected({"spec": {"resources": {"requests": {"storage": "2Gi"}}}}, "p")
    assert status == 422 and "spec is immutable" in message  # not bound yet: no resize either


def test_storage_classes_are_served(api: kubernetes.client.ApiClient) -> None:
    resources = {r.name: r for r in kubernetes.client.StorageV1Api(api).get_api_resources().resources}
    assert not resources["storageclasses"].namespaced
    apps_resources = {r.name for r in kubernetes.client.AppsV1Api(api).get_api_resources().resources}
    assert {"statefulsets", "statefulsets/status", "statefulsets/scale"} <= apps_resources
    core_resources = {r.name for r in kubernetes.client.CoreV1Api(api).get_api_resources().resources}
    assert {"persistentvolumeclaims", "persistentvolumeclaims/status"} <= core_resources
