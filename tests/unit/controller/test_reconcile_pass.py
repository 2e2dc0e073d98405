"""One reconcile pass (controller/reconciler.py) on inputs from plain indexes, with a recording API client and
event sink instead of a cluster: the creates, replaces and deletes it decides, the status it writes and the
Events it posts, for a new ModelDeployment, a converged one (no request at all), a drifted child, a deleted
child, an owned child no longer desired (and a stranger's left alone), an invalid spec (SpecValid False and a
Warning), a workload turning ready, and a full pool spilling over to the next."""

from __future__ import annotations

import copy
from typing import Any

from genai_emulator.patching import merge_patch
from genai_operator.api.resources import CHILD_RESOURCES, Resource
from genai_operator.controller.indexes import Index, Indices
from genai_operator.controller.informers import (
    GPU_PODS_INDEX,
    OWN_PODS_INDEX,
    GpuPod,
    child_entries,
    child_index_name,
)
from genai_operator.controller.metrics import OperatorMetrics
from genai_operator.controller.reconciler import Controller
from genai_operator.placement.inventory import node_view
from genai_operator.settings import Settings
from genai_operator.status.events import Event
from support.node_objects import nvidia_node

NS, NAME, UID = "ml", "llama-8b", "uid-llama"
KEY = (NS, NAME)
L4_MIB = 23034


class RecordingClient:
    """The API calls of a pass, recorded; creates and replaces answer like the API server (uid, version)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []  # (verb, kind, name)
        self.status_patches: list[dict[str, Any]] = []
        self.written: list[dict[str, Any]] = []  # children as created or replaced
        self.deleted: list[tuple[str, str]] = []
        self._version = 100

    def _stored(self, obj: dict[str, Any]) -> dict[str, Any]:
        self._version += 1
        stored = copy.deepcopy(obj)
        meta = stored["metadata"]
        meta.setdefault("uid", f"uid-{meta['name']}")
        meta.setdefault("generation", 1)
        meta["resourceVersion"] = str(self._version)
        self.written.append(stored)
        return stored

    async def get(
        self, res: Resource, namespace: str | None, name: str, subresource: str | None = None
    ) -> dict[str, Any] | None:
        self.calls.append(("get", res.kind, name))
        return None

    async def create(self, res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("create", res.kind, obj["metadata"]["name"]))
        return self._stored(obj)

    async def replace(self, res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(("replace", res.kind, obj["metadata"]["name"]))
        return self._stored(obj)

    async def delete(self, res: Resource, namespace: str | None, name: str, uid: str | None = None) -> bool:
        self.calls.append(("delete", res.kind, name))
        self.deleted.append((res.kind, name))
        return True

    async def patch(
        self, res: Resource, namespace: str | None, name: str, patch: dict[str, Any], subresource: str | None = None
    ) -> dict[str, Any]:
        self.calls.append(("patch", res.kind, name))
        self.status_patches.append(patch)
        return {}

    async def exists_api(self, group: str, version: str) -> bool:
        return False


class RecordingEvents:
    def __init__(self) -> None:
        self.posted: list[Event] = []

    def post(self, body: Any, event: Event) -> None:
        assert body["metadata"]["name"] == NAME
        self.posted.append(event)


def pool_manifest(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "genaiops.dev/v1alpha1",
        "kind": "PlacementPool",
        "metadata": {"name": name, "generation": 1, "resourceVersion": "1"},
        "spec": {
            "tier": "Cloud",
            "nodeSelector": {"example.com/pool": name},
            "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
            "gpu": {"resourceName": "nvidia.com/gpu", "type": "nvidia-l4"},
        },
    }


def model_deployment(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "genaiops.dev/v1alpha1",
        "kind": "ModelDeployment",
        "metadata": {"name": NAME, "namespace": NS, "uid": UID, "generation": 1, "resourceVersion": "1"},
        "spec": {
            "model": {"uri": "hf://meta-llama/Llama-3.1-8B-Instruct"},
            "engine": "VLLM",
            "quantization": {"precision": "BF16"},
            "serving": {"maxContextLength": 8192},
            "resources": {"gpu": {"types": ["nvidia-l4"]}},
            "replicas": 2,
            **spec,
        },
    }


class Cluster:
    """The indexes a pass reads (as the watches would fill them), the controller, and its recorders."""

    def __init__(self, nodes: dict[str, int], body: dict[str, Any]) -> None:
        """`nodes`: pool name -> L4 GPUs of its one node."""
        self.ours: dict[str, Index[Any, Any]] = {child_index_name(r): Index() for r in CHILD_RESOURCES}
        self.ours |= {GPU_PODS_INDEX: Index(), OWN_PODS_INDEX: Index(), "md_index": Index()}
        views = [
            node_view(nvidia_node(f"{pool}-1", "NVIDIA-L4", L4_MIB, gpus, labels={"example.com/pool": pool}))
            for pool, gpus in nodes.items()
        ]
        kopf = {"nodes_index": {None: views}, "pools_index": {None: [pool_manifest(p) for p in nodes]}}
        self.client, self.events = RecordingClient(), RecordingEvents()
        self.controller = Controller(
            settings=Settings(),
            client=self.client,
            metrics=OperatorMetrics(),
            indices=Indices(self.ours, kopf),
            events=self.events,
        )
        self.body = body
        self.children: dict[tuple[str, str], dict[str, Any]] = {}
        self.ours["md_index"].file(KEY, {KEY: body})

    def file_child(self, obj: dict[str, Any]) -> None:
        self.children[(obj["kind"], obj["metadata"]["name"])] = obj
        index = self.ours[child_index_name(next(r for r in CHILD_RESOURCES if r.kind == obj["kind"]))]
        index.file((NS, obj["metadata"]["name"]), child_entries(obj))

    def unfile_child(self, kind: str, name: str) -> None:
        del self.children[(kind, name)]
        index = self.ours[child_index_name(next(r for r in CHILD_RESOURCES if r.kind == kind))]
        index.file((NS, name), None)

    async def reconcile(self) -> str:
        """One pass, then what the watches would bring back: our writes, in the indexes."""
        for record in (self.client.calls, self.client.status_patches, self.client.written, self.client.deleted):
            record.clear()
        self.events.posted.clear()
        result = await self.controller.reconcile(KEY)
        for obj in self.client.written:
            self.file_child(obj)
        for kind, name in self.client.deleted:
            self.unfile_child(kind, name)
        for patch in self.client.status_patches:
            self.body = merge_patch(self.body, patch)  # as the API server applies it
            self.ours["md_index"].file(KEY, {KEY: self.body})
        return result

    def writes(self) -> list[tuple[str, str, str]]:
        return [c for c in self.client.calls if c[0] != "get"]

    def condition(self, kind: str) -> dict[str, Any]:
        return next(c for c in self.body["status"]["conditions"] if c["type"] == kind)


async def converged(cluster: Cluster) -> None:
    await cluster.reconcile()
    await cluster.reconcile()
    assert cluster.writes() == []


async def test_a_new_model_deployment_gets_its_children_and_one_status_write() -> None:
    cluster = Cluster({"l4": 4}, model_deployment())
    assert await cluster.reconcile() == "changed"
    creates = {(kind, name) for verb, kind, name in cluster.writes() if verb == "create"}
    assert {("Deployment", "llama-8b-l4"), ("Service", "llama-8b")} <= creates
    assert [c for c in cluster.writes() if c[0] != "create"] == [("patch", "ModelDeployment", NAME)]
    status = cluster.body["status"]
    assert [(p["pool"], p["replicas"]) for p in status["placement"]] == [("l4", 2)]
    assert cluster.condition("SpecValid")["status"] == "True" and cluster.condition("Ready")["status"] == "False"
    assert cluster.events.posted == []  # the first children are what applying it means, not news


async def test_a_converged_model_deployment_costs_no_request() -> None:
    cluster = Cluster({"l4": 4}, model_deployment())
    await cluster.reconcile()
    assert await cluster.reconcile() == "unchanged"
    assert cluster.client.calls == [] and cluster.events.posted == []


async def test_a_drifted_child_is_replaced_and_nothing_else_written() -> None:
    cluster = Cluster({"l4": 4}, model_deployment())
    await converged(cluster)
    scaled_by_hand = copy.deepcopy(cluster.children[("Deployment", "llama-8b-l4")])
    scaled_by_hand["spec"]["replicas"] = 5
    cluster.file_child(scaled_by_hand)
    assert await cluster.reconcile() == "changed"
    assert cluster.writes() == [("replace", "Deployment", "llama-8b-l4")]
    assert cluster.children[("Deployment", "llama-8b-l4")]["spec"]["replicas"] == 2


async def test_a_deleted_child_is_created_again() -> None:
    cluster = Cluster({"l4": 4}, model_deployment())
    await converged(cluster)
    cluster.unfile_child("Service", "llama-8b")
    assert await cluster.reconcile() == "changed"
    assert cluster.writes() == [("create", "Service", "llama-8b")]
    assert ("Service", "llama-8b") in cluster.children


async def test_an_invalid_spec_says_why_and_posts_a_warning() -> None:
    cluster = Cluster({"l4": 4}, model_deployment(replicas=-1))
    assert await cluster.reconcile() == "invalid"
    assert cluster.writes() == [("patch", "ModelDeployment", NAME)]  # no child touched
    spec_valid = cluster.condition("SpecValid")
    assert (spec_valid["status"], spec_valid["reason"]) == ("False", "InvalidSpec")
    assert "replicas" in spec_valid["message"]
    # SpecValid turning False and Degraded turning True, each with the reason and the field to fix.
    # One Warning: Degraded turns True for the same reason, and that is not said twice.
    assert [(e.type, e.reason) for e in cluster.events.posted] == [("Warning", "InvalidSpec")]
    assert all("replicas" in e.message for e in cluster.events.posted)
    assert await cluster.reconcile() == "invalid" and cluster.writes() == []  # said once


async def test_a_workload_turning_ready_writes_ready_and_posts_it() -> None:
    cluster = Cluster({"l4": 4}, model_deployment())
    await converged(cluster)
    ready = copy.deepcopy(cluster.children[("Deployment", "llama-8b-l4")])
    ready["status"] = {"observedGeneration": 1, "replicas": 2, "readyReplicas": 2, "updatedReplicas": 2}
    cluster.file_child(ready)
    assert await cluster.reconcile() == "unchanged"  # no child written
    assert cluster.writes() == [("patch", "ModelDeployment", NAME)]
    assert cluster.condition("Ready")["status"] == "True"
    assert [(e.type, e.reason) for e in cluster.events.posted] == [("Normal", "Ready")]


async def test_a_full_pool_spills_over_to_the_next() -> None:
    placement = {"pools": ["l4-a", "l4-b"], "strategy": "Ordered", "spillover": True}
    cluster = Cluster({"l4-a": 1, "l4-b": 4}, model_deployment(placement=placement))
    # Another owner's pod takes l4-a's one GPU.
    cluster.ours[GPU_PODS_INDEX].file(("other", "pod"), {"l4-a-1": GpuPod(("other", ""), 1)})
    await cluster.reconcile()
    placed = {p["pool"]: p["replicas"] for p in cluster.body["status"]["placement"]}
    assert placed == {"l4-a": 0, "l4-b": 2}
    assert cluster.children[("Deployment", "llama-8b-l4-b")]["spec"]["replicas"] == 2
    assert cluster.children[("Deployment", "llama-8b-l4-a")]["spec"]["replicas"] == 0  # standby for spillover


async def test_an_owned_child_no_longer_desired_is_deleted_and_a_stranger_left_alone() -> None:
    cluster = Cluster({"l4": 4}, model_deployment())
    await converged(cluster)
    old_pool = copy.deepcopy(cluster.children[("Deployment", "llama-8b-l4")])
    old_pool["metadata"]["name"] = "llama-8b-old-pool"
    stranger = copy.deepcopy(old_pool)
    stranger["metadata"]["name"] = "llama-8b-someone-else"
    stranger["metadata"]["ownerReferences"][0]["uid"] = "uid-other"
    cluster.file_child(old_pool)
    cluster.file_child(stranger)
    assert await cluster.reconcile() == "changed"
    assert cluster.writes() == [("delete", "Deployment", "llama-8b-old-pool")]
