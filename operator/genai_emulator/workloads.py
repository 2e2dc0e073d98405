"""Builders for what the deployment controller and the kubelet write: pods and statuses."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from genai_emulator.bookkeeping import now_rfc3339

TEMPLATE_HASH_LABEL = "pod-template-hash"


def template_hash(template: Mapping[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()
    return digest[:10]


def desired_replicas(deployment: Mapping[str, Any]) -> int:
    replicas = (deployment.get("spec") or {}).get("replicas")
    return int(replicas) if isinstance(replicas, int) else 1


def new_pod(deployment: Mapping[str, Any], pod_hash: str) -> dict[str, Any]:
    meta = deployment["metadata"]
    template = (deployment.get("spec") or {}).get("template") or {}
    template_meta = template.get("metadata") or {}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "generateName": f"{meta['name']}-",
            "namespace": meta.get("namespace"),
            "labels": {**(template_meta.get("labels") or {}), TEMPLATE_HASH_LABEL: pod_hash},
            "annotations": dict(template_meta.get("annotations") or {}),
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": meta["name"],
                    "uid": meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": copy.deepcopy(template.get("spec") or {}),
        "status": {"phase": "Pending", "qosClass": "BestEffort"},
    }


def condition(
    kind: str, status: str, when: str, reason: str | None = None, message: str | None = None
) -> dict[str, Any]:
    condition: dict[str, Any] = {"type": kind, "status": status, "lastProbeTime": None, "lastTransitionTime": when}
    if reason:
        condition["reason"] = reason
    if message:
        condition["message"] = message
    return condition


def unschedulable_status(pod: Mapping[str, Any], message: str) -> dict[str, Any]:
    status = dict(pod.get("status") or {})
    previous: Mapping[str, Any] = next(
        (c for c in status.get("conditions") or [] if c.get("type") == "PodScheduled"), {}
    )
    when = previous.get("lastTransitionTime") if previous.get("status") == "False" else None
    status["phase"] = "Pending"
    status["conditions"] = [condition("PodScheduled", "False", when or now_rfc3339(), "Unschedulable", message)]
    return status


def scheduled_status(pod: Mapping[str, Any]) -> dict[str, Any]:
    status = dict(pod.get("status") or {})
    status["phase"] = "Pending"
    status["conditions"] = [condition("PodScheduled", "True", now_rfc3339())]
    return status


def container_id(name: str, now: str, pod_ip: str) -> str:
    return f"containerd://{template_hash({'c': name, 't': now, 'ip': pod_ip})}"


def running_status(
    pod: Mapping[str, Any], host_ip: str, pod_ip: str, *, now: str | None = None, start_time: str | None = None
) -> dict[str, Any]:
    now = now or now_rfc3339()
    containers = (pod.get("spec") or {}).get("containers") or []
    return {
        "phase": "Running",
        "conditions": [
            condition(kind, "True", now) for kind in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
        ],
        "hostIP": host_ip,
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": start_time or now,
        "qosClass": (pod.get("status") or {}).get("qosClass", "BestEffort"),
        "containerStatuses": [
            {
                "name": c.get("name"),
                "image": c.get("image"),
                "imageID": "",
                "ready": True,
                "started": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": now}},
                "containerID": container_id(str(c.get("name")), now, pod_ip),
            }
            for c in containers
        ],
    }


def is_pod_ready(pod: Mapping[str, Any]) -> bool:
    status = pod.get("status") or {}
    return status.get("phase") == "Running" and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
    )


def max_unavailable(deployment: Mapping[str, Any], desired: int) -> int:
    strategy = (deployment.get("spec") or {}).get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate" or desired == 0:
        return 0
    value = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return desired * int(value[:-1]) // 100  # rounded down, as Kubernetes does
    return int(value)


def _merge_condition(previous: Sequence[Mapping[str, Any]], new: dict[str, Any], now: str) -> dict[str, Any]:
    """Keep the timestamps unless something changed, so idle reconciles write nothing."""
    old = next((c for c in previous if c.get("type") == new["type"]), None)
    if old is not None and old.get("status") == new["status"]:
        new["lastTransitionTime"] = old.get("lastTransitionTime", now)
        same = (old.get("reason"), old.get("message")) == (new["reason"], new["message"])
        new["lastUpdateTime"] = old.get("lastUpdateTime", now) if same else now
    else:
        new["lastTransitionTime"] = new["lastUpdateTime"] = now
    return new


def deployment_status(
    deployment: Mapping[str, Any], pods: Sequence[Mapping[str, Any]], pod_hash: str
) -> dict[str, Any]:
    desired = desired_replicas(deployment)
    updated = [p for p in pods if (p["metadata"].get("labels") or {}).get(TEMPLATE_HASH_LABEL) == pod_hash]
    available = sum(1 for p in pods if is_pod_ready(p))
    name = deployment["metadata"]["name"]
    previous = (deployment.get("status") or {}).get("conditions") or []
    now = now_rfc3339()
    minimum = available >= desired - max_unavailable(deployment, desired)
    complete = len(updated) == desired == available and len(pods) == desired
    conditions = [
        _merge_condition(
            previous,
            {
                "type": "Available",
                "status": "True" if minimum else "False",
                "reason": "MinimumReplicasAvailable" if minimum else "MinimumReplicasUnavailable",
                "message": (
                    "Deployment has minimum availability."
                    if minimum
                    else "Deployment does not have minimum availability."
                ),
            },
            now,
        ),
        _merge_condition(
            previous,
            {
                "type": "Progressing",
                "status": "True",
                "reason": "NewReplicaSetAvailable" if complete else "ReplicaSetUpdated",
                "message": (
                    f'ReplicaSet "{name}-{pod_hash}" has successfully progressed.'
                    if complete
                    else f'ReplicaSet "{name}-{pod_hash}" is progressing.'
                ),
            },
            now,
        ),
    ]
    counts = {
        "replicas": len(pods),
        "updatedReplicas": len(updated),
        "readyReplicas": available,
        "availableReplicas": available,
        "unavailableReplicas": max(desired - available, 0),
    }
    status: dict[str, Any] = {"observedGeneration": deployment["metadata"].get("generation", 1)}
    status.update({key: value for key, value in counts.items() if value})  # omitempty, as the API does
    status["conditions"] = conditions
    return status
