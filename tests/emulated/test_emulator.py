"""The Kubernetes API emulator (genai_emulator) against real clients over real HTTP.

Covers: metadata bookkeeping (uid, resourceVersion, creationTimestamp, generation rules),
409 on duplicate create, PUT conflicts, merge / strategic-merge / JSON patch, status and
scale subresources, label and field selectors on list and watch, owner-reference garbage
collection and finalizers, CRD installation with pruning and defaulting, the simulated
scheduler and deployment controller (GPU fit, Pending/Unschedulable, node usage kept across deletion,
terminal pods, node loss and a restart, scale down, template
changes, GC of pods), built-in defaulting, fault injection, request recording, watches that
resume from a list's resourceVersion, reconnect after a drop or get 410 Expired, the sample
node inventory, the thread runner, and a Kopf operator running on top of the emulator.

The `kubernetes` client is synchronous, so most tests run the emulator on its own thread
(`EmulatedCluster.in_thread()`); the Kopf test runs it in the test's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kopf
import kubernetes
import pytest
from kubernetes.client import ApiException

from genai_emulator import EmulatedCluster, ThreadedCluster, load_nodes
from genai_emulator.controller import WorkloadController
from genai_emulator.scheduling import NodeUsage, pod_requests
from support.emulator_clients import wait_for
from support.paths import ROOT

NODES_YAML = ROOT / "examples" / "inventory" / "nodes.yaml"
MD_GROUP, MD_VERSION, MD_PLURAL = "genaiops.dev", "v1alpha1", "modeldeployments"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
MERGE = "application/merge-patch+json"
INVENTORY = load_nodes(NODES_YAML)


@pytest.fixture
def cluster() -> Iterator[ThreadedCluster]:
    with EmulatedCluster.in_thread(nodes=INVENTORY) as running:
        yield running


def configmap(name: str, labels: dict[str, str] | None = None, **meta: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels or {}, **meta}, "data": {"k": "v"}}


def model_deployment(name: str, replicas: int = 1) -> dict[str, Any]:
    return {
        "apiVersion": f"{MD_GROUP}/{MD_VERSION}",
        "kind": "ModelDeployment",
        "metadata": {"name": name, "namespace": "ml"},
        "spec": {"model": {"uri": "hf://meta-llama/Llama-3.1-8B-Instruct"}, "replicas": replicas},
    }


def gpu_deployment(name: str, *, gpus: int, product: str, replicas: int = 2) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "ml"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "nodeSelector": {"nvidia.com/gpu.product": product},
                    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
                    "containers": [
                        {
                            "name": "vllm",
                            "image": "vllm/vllm-openai:v0.6.4",
                            "resources": {
                                "requests": {"cpu": "4", "memory": "32Gi"},
                                "limits": {"nvidia.com/gpu": str(gpus)},
                            },
                        }
                    ],
                },
            },
        },
    }


# -- bookkeeping ------------------------------------------------------------------------------


def test_create_fills_server_metadata(core: kubernetes.client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", configmap("cm"))
    meta = created.metadata
    assert uuid.UUID(meta.uid).version == 4
    assert meta.namespace == "default"
    assert meta.generation == 1
    assert int(meta.resource_version) > 0
    listed = core.list_namespaced_config_map("default")
    assert int(listed.metadata.resource_version) >= int(meta.resource_version)
    raw = core.api_client.call_api(
        *core.api_client.param_serialize("GET", "/api/v1/namespaces/default/configmaps/cm")
    ).read()
    assert RFC3339.match(json.loads(raw)["metadata"]["creationTimestamp"])


def test_generation_bumps_only_for_non_metadata_non_status_changes(custom: kubernetes.client.CustomObjectsApi) -> None:
    args = (MD_GROUP, MD_VERSION, "ml", MD_PLURAL)
    first = custom.create_namespaced_custom_object(*args, model_deployment("m"))
    labelled = custom.patch_namespaced_custom_object(*args, "m", {"metadata": {"labels": {"a": "b"}}})
    assert labelled["metadata"]["generation"] == 1
    assert int(labelled["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    scaled = custom.patch_namespaced_custom_object(*args, "m", {"spec": {"replicas": 3}})
    assert scaled["metadata"]["generation"] == 2
    with_status = custom.patch_namespaced_custom_object_status(*args, "m", {"status": {"replicas": 3}})
    assert with_status["metadata"]["generation"] == 2
    assert with_status["metadata"]["resourceVersion"] != scaled["metadata"]["resourceVersion"]
    same = custom.patch_namespaced_custom_object(*args, "m", {"spec": {"replicas": 3}})
    assert same["metadata"]["resourceVersion"] == with_status["metadata"]["resourceVersion"]  # no-op write
    assert same["metadata"]["uid"] == first["metadata"]["uid"]


# -- create, replace, patch -------------------------------------------------------------------


def test_duplicate_create_is_409_already_exists(core: kubernetes.client.CoreV1Api) -> None:
    core.create_namespaced_config_map("default", configmap("dup"))
    with pytest.raises(ApiException) as error:
        core.create_namespaced_config_map("default", configmap("dup"))
    assert error.value.status == 409
    body = json.loads(error.value.body)
    assert (body["kind"], body["reason"], body["details"]["name"]) == ("Status", "AlreadyExists", "dup")
    generated = core.create_namespaced_config_map("default", {"metadata": {"generateName": "gen-"}})
    assert re.match(r"^gen-[a-z0-9]{5}$", generated.metadata.name)


def test_put_replaces_and_honours_resource_version(core: kubernetes.client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", configmap("cm", {"x": "1"}))
    stale = created.metadata.resource_version
    replaced = core.replace_namespaced_config_map(
        "cm", "default", {"metadata": {"name": "cm", "resourceVersion": stale}, "data": {"new": "data"}}
    )
    assert replaced.data == {"new": "data"} and not replaced.metadata.labels  # a full replace
    assert replaced.metadata.uid == created.metadata.uid
    assert replaced.metadata.creation_timestamp == created.metadata.creation_timestamp
    assert replaced.metadata.generation == 2
    with pytest.raises(ApiException) as error:
        core.replace_namespaced_config_map(
            "cm", "default", {"metadata": {"name": "cm", "resourceVersion": stale}, "data": {}}
        )
    assert error.value.status == 409


def test_patch_flavours(apps: kubernetes.client.AppsV1Api, custom: kubernetes.client.CustomObjectsApi) -> None:
    deployment = gpu_deployment("web", gpus=0, product="none", replicas=0)
    deployment["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "envoy:1"})
    apps.create_namespaced_deployment("ml", deployment)
    # A dict body is sent as a strategic merge patch: containers merge by name.
    patched = apps.patch_namespaced_deployment(
        "web", "ml", {"spec": {"template": {"spec": {"containers": [{"name": "sidecar", "image": "envoy:2"}]}}}}
    )
    containers = {c.name: c.image for c in patched.spec.template.spec.containers}
    assert containers == {"vllm": "vllm/vllm-openai:v0.6.4", "sidecar": "envoy:2"}
    # A merge patch replaces lists and deletes keys with null.
    merged = apps.patch_namespaced_deployment(
        "web",
        "ml",
        {
            "metadata": {"labels": {"tier": "gpu"}},
            "spec": {"template": {"spec": {"nodeSelector": None, "containers": [{"name": "only", "image": "x"}]}}},
        },
        _content_type=MERGE,
    )
    assert [c.name for c in merged.spec.template.spec.containers] == ["only"]
    assert merged.spec.template.spec.node_selector is None and merged.metadata.labels == {"tier": "gpu"}
    # A list body is a JSON patch: test / add / replace / remove (a ConfigMap: no controller races).
    core = kubernetes.client.CoreV1Api(apps.api_client)
    rv = core.create_namespaced_config_map("ml", configmap("cm", {"tier": "gpu"})).metadata.resource_version
    jsonpatched = core.patch_namespaced_config_map(
        "cm",
        "ml",
        [
            {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
            {"op": "add", "path": "/metadata/labels/new", "value": "yes"},
            {"op": "replace", "path": "/data/k", "value": "w"},
            {"op": "remove", "path": "/metadata/labels/tier"},
        ],
    )
    assert (jsonpatched.metadata.labels, jsonpatched.data) == ({"new": "yes"}, {"k": "w"})
    with pytest.raises(ApiException) as failed_test:
        core.patch_namespaced_config_map("cm", "ml", [{"op": "test", "path": "/metadata/resourceVersion", "value": rv}])
    assert failed_test.value.status == 422  # what Kopf expects for a failed JSON-patch test
    with pytest.raises(ApiException) as missing:
        apps.patch_namespaced_deployment("ghost", "ml", {"spec": {"replicas": 1}})
    assert missing.value.status == 404
    custom.create_namespaced_custom_object(MD_GROUP, MD_VERSION, "ml", MD_PLURAL, model_deployment("m"))
    with pytest.raises(ApiException) as unsupported:  # CRs accept no strategic merge, as in Kubernetes
        custom.patch_namespaced_custom_object(
            MD_GROUP,
            MD_VERSION,
            "ml",
            MD_PLURAL,
            "m",
            {"spec": {}},
            _content_type="application/strategic-merge-patch+json",
        )
    assert unsupported.value.status == 415


def test_builtin_defaults_are_filled_and_stable(
    apps: kubernetes.client.AppsV1Api, core: kubernetes.client.CoreV1Api
) -> None:
    desired = gpu_deployment("web", gpus=1, product="NVIDIA-L4", replicas=0)
    created = apps.create_namespaced_deployment("ml", desired)
    assert created.spec.strategy.rolling_update.max_unavailable == "25%"
    assert created.spec.progress_deadline_seconds == 600 and created.spec.revision_history_limit == 10
    pod_spec = created.spec.template.spec
    assert (pod_spec.dns_policy, pod_spec.restart_policy, pod_spec.scheduler_name) == (
        "ClusterFirst",
        "Always",
        "default-scheduler",
    )
    assert pod_spec.containers[0].image_pull_policy == "IfNotPresent"
    # Re-sending the same desired object is a no-op: no new resourceVersion, no generation bump.
    # First let the simulated deployment controller write its status, so nothing else moves the object.
    deadline = time.monotonic() + 10
    current = apps.read_namespaced_deployment("web", "ml")
    while (
        current.status is None or current.status.observed_generation != current.metadata.generation
    ) and time.monotonic() < deadline:
        time.sleep(0.05)
        current = apps.read_namespaced_deployment("web", "ml")
    time.sleep(0.2)  # and any follow-up write of the same pass
    current = apps.read_namespaced_deployment("web", "ml")
    again = apps.patch_namespaced_deployment("web", "ml", desired)
    assert (again.metadata.resource_version, again.metadata.generation) == (
        current.metadata.resource_version,
        current.metadata.generation,
    )
    service = core.create_namespaced_service("ml", {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 8000}]}})
    assert service.spec.cluster_ip.startswith("10.96.") and service.spec.type == "ClusterIP"
    assert service.spec.ports[0].target_port == 8000 and service.spec.ports[0].protocol == "TCP"
    replaced = core.replace_namespaced_service(
        "web", "ml", {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 9000}]}}
    )
    assert replaced.spec.cluster_ip == service.spec.cluster_ip  # allocated once, carried over


# -- subresources -----------------------------------------------------------------------------


def test_status_subresource_is_separate(custom: kubernetes.client.CustomObjectsApi) -> None:
    args = (MD_GROUP, MD_VERSION, "ml", MD_PLURAL)
    body = model_deployment("m")
    body["status"] = {"replicas": 99}
    created = custom.create_namespaced_custom_object(*args, body)
    assert "status" not in created  # dropped on create, as for any resource with /status
    main = custom.patch_namespaced_custom_object(*args, "m", {"status": {"replicas": 5}})
    assert "status" not in main
    status = custom.patch_namespaced_custom_object_status(
        *args, "m", {"spec": {"replicas": 7}, "status": {"replicas": 5}}
    )
    assert status["status"] == {"replicas": 5} and status["spec"]["replicas"] == 1
    assert status["metadata"]["generation"] == 1


def test_scale_subresource(
    apps: kubernetes.client.AppsV1Api, custom: kubernetes.client.CustomObjectsApi, cluster: ThreadedCluster
) -> None:
    apps.create_namespaced_deployment("ml", gpu_deployment("web", gpus=1, product="NVIDIA-L4", replicas=1))
    scale = apps.read_namespaced_deployment_scale("web", "ml")
    assert (scale.spec.replicas, scale.status.selector) == (1, "app=web")
    apps.patch_namespaced_deployment_scale("web", "ml", {"spec": {"replicas": 3}})
    deployment = apps.read_namespaced_deployment("web", "ml")
    assert (deployment.spec.replicas, deployment.metadata.generation) == (3, 2)
    args = (MD_GROUP, MD_VERSION, "ml", MD_PLURAL)
    custom.create_namespaced_custom_object(*args, model_deployment("m"))
    custom.patch_namespaced_custom_object_status(
        *args, "m", {"status": {"replicas": 1, "selector": "genaiops.dev/model-deployment=m"}}
    )
    md_scale = custom.get_namespaced_custom_object_scale(*args, "m")
    assert md_scale["kind"] == "Scale" and md_scale["apiVersion"] == "autoscaling/v1"
    assert md_scale["status"] == {"replicas": 1, "selector": "genaiops.dev/model-deployment=m"}
    custom.replace_namespaced_custom_object_scale(
        *args,
        "m",
        {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": {"name": "m"}, "spec": {"replicas": 4}},
    )
    assert cluster.get(MD_PLURAL, "ml", "m")["spec"]["replicas"] == 4  # type: ignore[index]


# -- selectors and watches --------------------------------------------------------------------


def test_label_and_field_selectors_on_list(core: kubernetes.client.CoreV1Api) -> None:
    labelled = [("a", {"app": "x", "tier": "gpu"}), ("b", {"app": "y"}), ("c", {"app": "z", "tier": "cpu"})]
    for name, labels in labelled:
        core.create_namespaced_config_map("default", configmap(name, labels))
    core.create_namespace({"metadata": {"name": "other"}})
    core.create_namespaced_config_map("other", configmap("d", {"app": "x"}))

    def names(**kwargs: Any) -> list[str]:
        return sorted(cm.metadata.name for cm in core.list_config_map_for_all_namespaces(**kwargs).items)

    assert names(label_selector="app=x") == ["a", "d"]
    assert names(label_selector="app==x,tier") == ["a"]
    assert names(label_selector="app!=x") == ["b", "c"]
    assert names(label_selector="app in (x, z)") == ["a", "c", "d"]
    assert names(label_selector="app notin (x,z)") == ["b"]
    assert names(label_selector="!tier") == ["b", "d"]
    assert names(field_selector="metadata.name=c") == ["c"]
    assert names(field_selector="metadata.namespace=other") == ["d"]
    assert names(field_selector="metadata.namespace!=other,metadata.name!=a") == ["b", "c"]
    with pytest.raises(ApiException) as error:
        names(label_selector="app in (x")
    assert error.value.status == 400


@contextlib.contextmanager
def watching(
    cluster: ThreadedCluster, fn: Callable[..., Any], *args: Any, **kwargs: Any
) -> Iterator[queue.Queue[tuple[str, str]]]:
    """Stream watch events on a thread; on exit stop it so it never reconnects to a gone server."""
    watch = kubernetes.watch.Watch()
    events: queue.Queue[tuple[str, str]] = queue.Queue()
    stopping = threading.Event()
    failures: list[BaseException] = []

    def consume() -> None:
        try:
            for event in watch.stream(fn, *args, **kwargs):
                events.put((event["type"], event["object"].metadata.name))
        except Exception as exc:  # Watch.stop() shuts the socket down under the reader: expected then
            if not stopping.is_set():
                failures.append(exc)

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    try:
        yield events
    finally:
        stopping.set()
        watch.stop()
        cluster.drop_watches()  # ends the stream; a stopped Watch does not reconnect
        thread.join(5)
    assert not failures, failures


def _next(events: queue.Queue[tuple[str, str]]) -> tuple[str, str]:
    return events.get(timeout=5)


def test_label_selector_watch(core: kubernetes.client.CoreV1Api, cluster: ThreadedCluster) -> None:
    core.create_namespaced_config_map("default", configmap("early", {"app": "x"}))
    with watching(cluster, core.list_namespaced_config_map, "default", label_selector="app=x") as events:
        assert _next(events) == ("ADDED", "early")  # the initial state of a watch without resourceVersion
        core.create_namespaced_config_map("default", configmap("ignored", {"app": "y"}))
        core.create_namespaced_config_map("default", configmap("late", {"app": "x"}))
        assert _next(events) == ("ADDED", "late")
        core.patch_namespaced_config_map("late", "default", {"metadata": {"labels": {"app": "gone"}}})
        assert _next(events) == ("DELETED", "late")  # it left the selection
        core.patch_namespaced_config_map("ignored", "default", {"metadata": {"labels": {"app": "x"}}})
        assert _next(events) == ("ADDED", "ignored")  # it entered the selection


def test_watch_resumes_from_list_resource_version_and_reconnects_after_drop(
    core: kubernetes.client.CoreV1Api, cluster: ThreadedCluster
) -> None:
    core.create_namespaced_config_map("default", configmap("before"))
    listed = core.list_namespaced_config_map("default")
    with watching(
        cluster, core.list_namespaced_config_map, "default", resource_version=listed.metadata.resource_version
    ) as events:
        core.create_namespaced_config_map("default", configmap("first"))
        assert _next(events) == ("ADDED", "first")  # nothing replayed from before the list
        first_rv = core.read_namespaced_config_map("first", "default").metadata.resource_version
        cluster.drop_watches()
        core.create_namespaced_config_map("default", configmap("second"))
        assert _next(events) == ("ADDED", "second")  # the client reconnected and resumed
        assert events.empty()
    watches = cluster.recorded_requests(verb="watch", resource="configmaps")
    assert [w.params.get("resourceVersion") for w in watches[:2]] == [listed.metadata.resource_version, first_rv]


def test_watch_from_a_compacted_resource_version_is_410_expired() -> None:
    with EmulatedCluster.in_thread(emulator_options={"event_capacity": 4}) as small:
        configuration = kubernetes.client.Configuration()
        kubernetes.config.load_kube_config(config_file=str(small.kubeconfig_path), client_configuration=configuration)
        with kubernetes.client.ApiClient(configuration) as client:
            core = kubernetes.client.CoreV1Api(client)
            old = core.create_namespaced_config_map("default", configmap("c0")).metadata.resource_version
            for index in range(1, 10):
                core.create_namespaced_config_map("default", configmap(f"c{index}"))
            with pytest.raises(ApiException) as expired:  # the client retries a 410 once, then raises
                for _ in kubernetes.watch.Watch().stream(
                    core.list_namespaced_config_map, "default", resource_version=old
                ):
                    pass
            assert expired.value.status == 410


# -- deletion: finalizers and garbage collection ----------------------------------------------


def test_owner_reference_gc_cascades(core: kubernetes.client.CoreV1Api, cluster: ThreadedCluster) -> None:
    root = core.create_namespaced_config_map("default", configmap("root"))

    def owned_by(obj: Any) -> list[dict[str, Any]]:
        return [{"apiVersion": "v1", "kind": "ConfigMap", "name": obj.metadata.name, "uid": obj.metadata.uid}]

    child = core.create_namespaced_secret("default", {"metadata": {"name": "child", "ownerReferences": owned_by(root)}})
    grandchild = core.create_namespaced_config_map(
        "default",
        configmap(
            "grandchild",
            ownerReferences=[{"apiVersion": "v1", "kind": "Secret", "name": "child", "uid": child.metadata.uid}],
        ),
    )
    bystander = core.create_namespaced_config_map("default", configmap("bystander"))
    with watching(
        cluster, core.list_namespaced_config_map, "default", resource_version=bystander.metadata.resource_version
    ) as events:
        core.delete_namespaced_config_map("root", "default")
        assert {_next(events), _next(events)} == {("DELETED", "root"), ("DELETED", "grandchild")}
    assert grandchild.metadata.owner_references[0].uid == child.metadata.uid
    assert [s.metadata.name for s in core.list_namespaced_secret("default").items] == []
    assert [c.metadata.name for c in core.list_namespaced_config_map("default").items] == ["bystander"]


def test_orphan_propagation_and_finalizers(core: kubernetes.client.CoreV1Api) -> None:
    owner = core.create_namespaced_config_map("default", configmap("owner"))
    core.create_namespaced_config_map(
        "default",
        configmap(
            "kept",
            ownerReferences=[{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}],
        ),
    )
    core.delete_namespaced_config_map("owner", "default", propagation_policy="Orphan")
    assert core.read_namespaced_config_map("kept", "default").metadata.owner_references is None

    core.create_namespaced_config_map("default", configmap("held", finalizers=["example.com/hold"]))
    core.delete_namespaced_config_map("held", "default")
    held = core.read_namespaced_config_map("held", "default")
    assert held.metadata.deletion_timestamp is not None
    core.patch_namespaced_config_map("held", "default", {"metadata": {"finalizers": None}}, _content_type=MERGE)
    with pytest.raises(ApiException) as error:
        core.read_namespaced_config_map("held", "default")
    assert error.value.status == 404


# -- the simulated scheduler and deployment controller ----------------------------------------


def test_scheduler_runs_replicas_when_gpus_suffice(
    apps: kubernetes.client.AppsV1Api, core: kubernetes.client.CoreV1Api
) -> None:
    apps.create_namespaced_deployment("ml", gpu_deployment("h100", gpus=8, product="NVIDIA-H100-80GB-HBM3"))
    status = wait_for(
        lambda: (s := apps.read_namespaced_deployment_status("h100", "ml").status) and s.ready_replicas == 2 and s
    )
    assert (status.replicas, status.updated_replicas, status.available_replicas) == (2, 2, 2)
    assert status.observed_generation == 1 and not status.unavailable_replicas
    assert {c.type: c.status for c in status.conditions} == {"Available": "True", "Progressing": "True"}
    pods = core.list_namespaced_pod("ml", label_selector="app=h100").items
    assert len(pods) == 2 and len({p.spec.node_name for p in pods}) == 2  # 8 GPUs each: one per node
    for pod in pods:
        assert re.match(r"^h100-[a-z0-9]{5}$", pod.metadata.name)
        assert pod.status.phase == "Running"
        assert {c.type: c.status for c in pod.status.conditions}["Ready"] == "True"
        assert pod.metadata.owner_references[0].kind == "Deployment"


def test_scheduler_leaves_pods_pending_when_gpus_do_not_suffice(
    apps: kubernetes.client.AppsV1Api, core: kubernetes.client.CoreV1Api
) -> None:
    apps.create_namespaced_deployment("ml", gpu_deployment("big", gpus=8, product="NVIDIA-L4", replicas=1))

    def pending() -> Any:
        pods = core.list_namespaced_pod("ml", label_selector="app=big").items
        return pods and pods[0].status.conditions and pods[0]

    pod = wait_for(pending)
    assert pod.status.phase == "Pending" and pod.spec.node_name is None
    condition = pod.status.conditions[0]
    assert (condition.type, condition.status, condition.reason) == ("PodScheduled", "False", "Unschedulable")
    # kube-scheduler's wording: each node reports its first failing filter (taints before affinity).
    assert condition.message == (
        "0/12 nodes are available: 2 Insufficient nvidia.com/gpu, "  # the two L4 nodes have 4 GPUs
        "2 node(s) had untolerated taint {node-role.kubernetes.io/edge: }, "
        "8 node(s) didn't match Pod's node affinity/selector."  # incl. the MIG node mig-a100-01
    )
    status = wait_for(lambda: apps.read_namespaced_deployment_status("big", "ml").status.conditions)
    assert {c.type: c.status for c in status} == {"Available": "False", "Progressing": "True"}


def gpu_node(name: str) -> dict[str, Any]:
    resources = {"cpu": "8", "memory": "32Gi", "pods": "110", "nvidia.com/gpu": "1"}
    return {"metadata": {"name": name}, "status": {"capacity": resources, "allocatable": resources}}


def gpu_pod(name: str, gpus: int = 1, finalizers: tuple[str, ...] = (), **spec: Any) -> dict[str, Any]:
    container = {"name": "main", "image": "busybox", "resources": {"limits": {"nvidia.com/gpu": str(gpus)}}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "finalizers": list(finalizers)},
        "spec": {"containers": [container], **spec},
    }


def pod_of(cluster: ThreadedCluster, name: str) -> dict[str, Any]:
    return cluster.get("pods", "default", name) or {}


def node_of(cluster: ThreadedCluster, name: str) -> str | None:
    return (pod_of(cluster, name).get("spec") or {}).get("nodeName")


def phase_of(cluster: ThreadedCluster, name: str) -> str | None:
    return (pod_of(cluster, name).get("status") or {}).get("phase")


def unschedulable(cluster: ThreadedCluster, name: str) -> str | None:
    conditions = (pod_of(cluster, name).get("status") or {}).get("conditions") or []
    return next((c.get("message") for c in conditions if c.get("reason") == "Unschedulable"), None)


def assert_usage_recounted(cluster: ThreadedCluster) -> None:
    """The usage the scheduler keeps from pod changes equals a recount of the store."""

    def compare() -> None:
        recount: dict[str, NodeUsage] = {}
        for obj in cluster.emulator.store.items(cluster.emulator.registry.resolve("v1/pods")):
            node = obj["spec"].get("nodeName")
            if node and (obj.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                recount.setdefault(node, NodeUsage()).add(pod_requests(obj))
        assert cluster.emulator.controller is not None
        kept = cluster.emulator.controller.scheduler_cache.usage
        assert {n: (u.pods, {k: v for k, v in u.requested.items() if v}) for n, u in kept.items()} == {
            n: (u.pods, {k: v for k, v in u.requested.items() if v}) for n, u in recount.items()
        }

    cluster.call(compare)


def test_scheduler_cache_frees_capacity_on_removal_terminal_phase_and_node_loss() -> None:
    with EmulatedCluster.in_thread(nodes=[gpu_node("gpu-a")]) as cluster:
        cluster.apply(gpu_pod("first", finalizers=("example.com/hold",)))
        wait_for(lambda: phase_of(cluster, "first") == "Running")
        cluster.apply(gpu_pod("second"))
        full = "0/1 nodes are available: 1 Insufficient nvidia.com/gpu."
        wait_for(lambda: unschedulable(cluster, "second") == full)

        # A pod being deleted holds its GPU until it is gone: a pass (binding `probe`) leaves `second` pending.
        cluster.delete("pods", "default", "first")
        assert pod_of(cluster, "first")["metadata"].get("deletionTimestamp")
        cluster.apply(gpu_pod("probe", gpus=0))
        wait_for(lambda: node_of(cluster, "probe") == "gpu-a")
        assert node_of(cluster, "second") is None and unschedulable(cluster, "second") == full
        assert_usage_recounted(cluster)
        first = pod_of(cluster, "first")
        cluster.apply({**first, "metadata": {**first["metadata"], "finalizers": []}})
        wait_for(lambda: phase_of(cluster, "second") == "Running" and node_of(cluster, "second") == "gpu-a")
        assert not pod_of(cluster, "first")

        # A Succeeded pod frees its GPU.
        second = pod_of(cluster, "second")
        cluster.apply({**second, "status": {**second["status"], "phase": "Succeeded"}})
        cluster.apply(gpu_pod("third"))
        wait_for(lambda: phase_of(cluster, "third") == "Running" and node_of(cluster, "third") == "gpu-a")
        assert_usage_recounted(cluster)

        # The pod GC deletes the live pods of a deleted node (a terminal one stays); no node is left.
        cluster.delete("nodes", None, "gpu-a")
        wait_for(lambda: not pod_of(cluster, "third") and not pod_of(cluster, "probe"))
        assert phase_of(cluster, "second") == "Succeeded"
        cluster.apply(gpu_pod("fourth"))
        wait_for(lambda: unschedulable(cluster, "fourth") == "no nodes available to schedule pods")
        assert_usage_recounted(cluster)

        # A pod bound by someone else to a node that does not exist yet starts once it does, and takes its GPU.
        cluster.apply(gpu_pod("preset", nodeName="gpu-b"))
        cluster.add_nodes([gpu_node("gpu-b"), gpu_node("gpu-a")])
        wait_for(lambda: phase_of(cluster, "preset") == "Running" and phase_of(cluster, "fourth") == "Running")
        assert (node_of(cluster, "preset"), node_of(cluster, "fourth")) == ("gpu-b", "gpu-a")
        assert_usage_recounted(cluster)


def test_a_restarted_scheduler_finds_bound_unstarted_and_pending_pods() -> None:
    with EmulatedCluster.in_thread(nodes=[gpu_node("gpu-a")], ready_delay=1000.0) as cluster:
        cluster.apply(gpu_pod("bound"))
        cluster.apply(gpu_pod("waiting"))
        wait_for(lambda: node_of(cluster, "bound") == "gpu-a" and unschedulable(cluster, "waiting"))
        assert phase_of(cluster, "bound") == "Pending"  # bound, not started yet (ready_delay)

        async def restart() -> None:
            emulator = cluster.emulator
            assert emulator.controller is not None
            await emulator.controller.stop()
            emulator.controller = WorkloadController(emulator.store)  # no ready_delay now
            emulator.controller.start()

        cluster.run(restart())
        wait_for(lambda: phase_of(cluster, "bound") == "Running")
        assert node_of(cluster, "waiting") is None  # `bound` still holds the GPU
        assert_usage_recounted(cluster)
        cluster.delete("pods", "default", "bound")
        wait_for(lambda: phase_of(cluster, "waiting") == "Running")


def test_deployment_scaling_template_changes_and_gc(
    apps: kubernetes.client.AppsV1Api, core: kubernetes.client.CoreV1Api, cluster: ThreadedCluster
) -> None:
    apps.create_namespaced_deployment("ml", gpu_deployment("l4", gpus=1, product="NVIDIA-L4", replicas=3))

    def running() -> list[Any]:
        pods = core.list_namespaced_pod("ml", label_selector="app=l4").items
        return [p for p in pods if p.status.phase == "Running"]

    first = {p.metadata.name for p in wait_for(lambda: len(running()) == 3 and running())}
    apps.patch_namespaced_deployment_scale("l4", "ml", {"spec": {"replicas": 1}})
    wait_for(lambda: len(core.list_namespaced_pod("ml", label_selector="app=l4").items) == 1)
    apps.patch_namespaced_deployment(
        "l4", "ml", {"spec": {"template": {"metadata": {"annotations": {"restartedAt": "now"}}}}}
    )
    replaced = wait_for(lambda: (pods := running()) and not {p.metadata.name for p in pods} & first and pods)
    assert len(replaced) == 1
    wait_for(lambda: apps.read_namespaced_deployment_status("l4", "ml").status.observed_generation == 3)
    apps.delete_namespaced_deployment("l4", "ml")
    assert core.list_namespaced_pod("ml", label_selector="app=l4").items == []
    assert cluster.list("pods", "ml") == []


# -- fault injection and request recording ---------------------------------------------------


def test_fault_injection(core: kubernetes.client.CoreV1Api, cluster: ThreadedCluster) -> None:
    cluster.fail_next(1, 409, method="create", resource="configmaps")
    with pytest.raises(ApiException) as conflict:
        core.create_namespaced_config_map("default", configmap("x"))
    assert conflict.value.status == 409
    core.create_namespaced_config_map("default", configmap("x"))  # only the next one failed
    cluster.fail_next(1, 429, resource="ConfigMap")  # by kind; urllib3 would retry a GET after 1s
    with pytest.raises(ApiException) as throttled:
        core.create_namespaced_config_map("default", configmap("y"))
    assert throttled.value.status == 429 and throttled.value.headers["Retry-After"] == "1"
    cluster.fail_next(2, 503, method="GET", namespace="default")
    for _ in range(2):
        with pytest.raises(ApiException) as unavailable:
            core.list_namespaced_config_map("default")
        assert unavailable.value.status == 503
    cluster.fail_next(1, 500, resource="secrets")
    core.list_namespaced_config_map("default")  # other resources are unaffected
    with pytest.raises(ApiException) as internal:
        core.list_namespaced_secret("default")
    assert internal.value.status == 500


def test_request_recording(
    core: kubernetes.client.CoreV1Api, apps: kubernetes.client.AppsV1Api, cluster: ThreadedCluster
) -> None:
    cluster.call(cluster.emulator.clear_recorded_requests)
    core.create_namespaced_config_map("default", configmap("a"))
    core.patch_namespaced_config_map("a", "default", {"data": {"k": "w"}})
    core.delete_namespaced_config_map("a", "default")
    apps.create_namespaced_deployment("ml", gpu_deployment("d", gpus=0, product="none", replicas=0))
    apps.patch_namespaced_deployment_scale("d", "ml", {"spec": {"replicas": 0}})
    writes = [(r.verb, r.kind) for r in cluster.recorded_requests() if r.is_write]
    assert writes == [
        ("create", "ConfigMap"),
        ("patch", "ConfigMap"),
        ("delete", "ConfigMap"),
        ("create", "Deployment"),
        ("patch", "Deployment"),
    ]
    scale = cluster.recorded_requests(verb="patch", resource="deployments.apps", subresource="scale")
    assert len(scale) == 1 and scale[0].namespace == "ml" and scale[0].status == 200
    assert scale[0].content_type == "application/strategic-merge-patch+json"


# -- CRDs, discovery, inventory ---------------------------------------------------------------

WIDGET_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, default: 3}
              labels: {type: object, additionalProperties: {type: string}}
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
"""


def test_install_crds_serves_prunes_and_defaults(
    tmp_path: Path, cluster: ThreadedCluster, api: kubernetes.client.ApiClient
) -> None:
    (tmp_path / "widgets.yaml").write_text(WIDGET_CRD)
    cluster.install_crds([tmp_path])
    custom = kubernetes.client.CustomObjectsApi(api)
    widget = custom.create_namespaced_custom_object(
        "example.com",
        "v1",
        "default",
        "widgets",
        {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w"},
            "spec": {"unknown": True, "labels": {"a": "b"}},
        },
    )
    assert widget["spec"] == {"size": 3, "labels": {"a": "b"}}  # pruned and defaulted
    crd = cluster.get("customresourcedefinitions", None, "widgets.example.com")
    assert crd is not None
    assert {c["type"] for c in crd["status"]["conditions"]} == {"Established", "NamesAccepted"}
    resources = kubernetes.client.CustomObjectsApi(api).get_api_resources("example.com", "v1")
    assert {r.name for r in resources.resources} == {"widgets", "widgets/status"}
    kubernetes.client.ApiextensionsV1Api(api).delete_custom_resource_definition("widgets.example.com")
    with pytest.raises(ApiException) as gone:
        custom.list_namespaced_custom_object("example.com", "v1", "default", "widgets")
    assert gone.value.status == 404


def test_discovery_and_sample_inventory(core: kubernetes.client.CoreV1Api, api: kubernetes.client.ApiClient) -> None:
    core_resources = {r.name: r for r in core.get_api_resources().resources}
    assert core_resources["pods"].namespaced and not core_resources["nodes"].namespaced
    assert "pods/status" in core_resources and "namespaces" in core_resources
    groups = {g.name for g in kubernetes.client.ApisApi(api).get_api_versions().groups}
    assert {"apps", "apiextensions.k8s.io", "genaiops.dev", "kopf.dev", "coordination.k8s.io"} <= groups
    nodes = {n.metadata.name: n for n in core.list_node().items}
    assert len(nodes) == 12  # four 8x H100 nodes since the two-node 405B example, and the MIG node mig-a100-01
    gpus = sorted(int(n.status.allocatable.get("nvidia.com/gpu", 0)) for n in nodes.values())
    assert gpus == [0, 0, 0, 1, 1, 4, 4, 4, 8, 8, 8, 8]  # mig-a100-01 advertises slices, no whole GPU
    archs = {n.status.node_info.architecture for n in nodes.values()}
    assert archs == {"amd64", "arm64"}


def test_threaded_cluster_stops_cleanly() -> None:
    running = EmulatedCluster.in_thread()
    with running:
        url, kubeconfig = running.url, running.kubeconfig_path
        assert running.apply(configmap("x") | {"apiVersion": "v1", "kind": "ConfigMap"})["metadata"]["uid"]
        assert kubeconfig.exists() and url.startswith("http://127.0.0.1:")
    assert not kubeconfig.exists()
    assert not any(t.name == "genai-emulator" for t in threading.enumerate())


# -- Kopf on top ------------------------------------------------------------------------------


async def test_kopf_operator_sees_and_patches_a_created_object() -> None:
    registry = kopf.OperatorRegistry()
    seen = asyncio.Event()
    async with EmulatedCluster() as cluster:

        @kopf.on.login(registry=registry)
        def login(**_: Any) -> kopf.ConnectionInfo:
            return kopf.ConnectionInfo(server=cluster.url, token=cluster.token)

        @kopf.on.create(MD_GROUP, MD_VERSION, MD_PLURAL, registry=registry)
        def created(patch: kopf.Patch, **_: Any) -> None:
            patch.status["phase"] = "Seen"
            seen.set()

        settings = kopf.OperatorSettings()
        settings.persistence.finalizer = "genaiops.dev/finalizer"
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix="genaiops.dev")
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(prefix="genaiops.dev")
        stop, ready = asyncio.Event(), asyncio.Event()
        operator = asyncio.create_task(
            kopf.operator(
                registry=registry,
                settings=settings,
                standalone=True,
                clusterwide=True,
                stop_flag=stop,
                ready_flag=ready,
            )
        )
        try:
            await asyncio.wait_for(ready.wait(), 10)
            cluster.apply(model_deployment("smoke"))
            await asyncio.wait_for(seen.wait(), 10)
            for _ in range(200):
                obj = cluster.get(MD_PLURAL, "ml", "smoke") or {}
                if (obj.get("status") or {}).get("phase") == "Seen":
                    break
                await asyncio.sleep(0.05)
            assert obj["status"]["phase"] == "Seen"  # written through /status by Kopf
            annotations = obj["metadata"].get("annotations") or {}
            assert any(key.startswith("genaiops.dev/") for key in annotations)
        finally:
            stop.set()
            await asyncio.wait_for(operator, 10)
        patches = cluster.recorded_requests(verb="patch", resource=MD_PLURAL)
        assert any(r.subresource == "status" for r in patches)


def test_kmock_reactions_win_over_the_store_and_can_be_added_late(
    core: kubernetes.client.CoreV1Api, cluster: ThreadedCluster
) -> None:
    core.create_namespaced_config_map("default", configmap("x"))
    assert core.read_namespaced_config_map("x", "default").metadata.name == "x"  # served by the store
    # A reaction declared after requests were served (reactions' priorities are cached per reaction).
    cluster.emulator["get /api/v1/namespaces/default/configmaps/x"] << 418
    with pytest.raises(ApiException) as teapot:
        core.read_namespaced_config_map("x", "default")
    assert teapot.value.status == 418
    assert core.list_namespaced_config_map("default").items  # other requests still reach the store
