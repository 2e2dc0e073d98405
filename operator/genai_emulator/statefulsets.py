"""A simulated StatefulSet controller (apps/v1), after kube-controller-manager's.

Pods are `<set>-<ordinal>` with stable claims `<template>-<set>-<ordinal>` from the
volumeClaimTemplates. OrderedReady creates ordinals one at a time, each after the previous is
Running and Ready, and removes the highest first; Parallel does both at once. A RollingUpdate
replaces pods of an old revision from the highest ordinal down: without
`rollingUpdate.maxUnavailable` one at a time, waiting for each to be ready (as the real controller
does unless the alpha MaxUnavailableStatefulSet gate is on), with it up to that many at once.
No ControllerRevision objects are written; the revision is `<set>-<hash of the template>`.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from typing import Any

from genai_emulator.operations import Store
from genai_emulator.resources import ResourceSpec
from genai_emulator.workloads import desired_replicas, is_pod_ready, template_hash

Body = dict[str, Any]
REVISION_LABEL = "controller-revision-hash"
POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
_TERMINAL = ("Succeeded", "Failed")


def _spec(sts: Mapping[str, Any]) -> Mapping[str, Any]:
    return sts.get("spec") or {}


def revision(sts: Mapping[str, Any]) -> str:
    return f"{sts['metadata']['name']}-{template_hash(_spec(sts).get('template') or {})}"


def _owner(sts: Mapping[str, Any]) -> Body:
    meta = sts["metadata"]
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def claim_name(template: Mapping[str, Any], sts: Mapping[str, Any], ordinal: int) -> str:
    return f"{(template.get('metadata') or {}).get('name')}-{sts['metadata']['name']}-{ordinal}"


def new_claim(sts: Mapping[str, Any], template: Mapping[str, Any], ordinal: int) -> Body:
    meta = sts["metadata"]
    template_meta = template.get("metadata") or {}
    selector = (_spec(sts).get("selector") or {}).get("matchLabels") or {}
    claim: Body = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": claim_name(template, sts, ordinal),
            "namespace": meta.get("namespace"),
            "labels": {**(template_meta.get("labels") or {}), **selector},
        },
        "spec": copy.deepcopy(template.get("spec") or {}),
    }
    if template_meta.get("annotations"):
        claim["metadata"]["annotations"] = dict(template_meta["annotations"])
    if (_spec(sts).get("persistentVolumeClaimRetentionPolicy") or {}).get("whenDeleted") == "Delete":
        claim["metadata"]["ownerReferences"] = [_owner(sts)]
    return claim


def new_pod(sts: Mapping[str, Any], ordinal: int, rev: str) -> Body:
    meta, spec = sts["metadata"], _spec(sts)
    template = spec.get("template") or {}
    template_meta = template.get("metadata") or {}
    name = f"{meta['name']}-{ordinal}"
    pod_spec: Body = copy.deepcopy(template.get("spec") or {})
    pod_spec["hostname"] = name
    if spec.get("serviceName"):
        pod_spec["subdomain"] = spec["serviceName"]
    claims = {
        str((t.get("metadata") or {}).get("name")): claim_name(t, sts, ordinal)
        for t in spec.get("volumeClaimTemplates") or []
    }
    # Claim volumes first, then the template's own ones (a same-named template volume is replaced).
    pod_spec["volumes"] = [
        {"name": volume, "persistentVolumeClaim": {"claimName": claim}} for volume, claim in claims.items()
    ]
    pod_spec["volumes"] += [v for v in template.get("spec", {}).get("volumes") or [] if v.get("name") not in claims]
    if not pod_spec["volumes"]:
        del pod_spec["volumes"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": meta.get("namespace"),
            "labels": {
                **(template_meta.get("labels") or {}),
                REVISION_LABEL: rev,
                POD_NAME_LABEL: name,
                POD_INDEX_LABEL: str(ordinal),
            },
            "annotations": dict(template_meta.get("annotations") or {}),
            "ownerReferences": [_owner(sts)],
        },
        "spec": pod_spec,
        "status": {"phase": "Pending", "qosClass": "BestEffort"},
    }


def _max_unavailable(sts: Mapping[str, Any], replicas: int) -> int | None:
    value = ((_spec(sts).get("updateStrategy") or {}).get("rollingUpdate") or {}).get("maxUnavailable")
    if value is None:
        return None
    if isinstance(value, str) and value.endswith("%"):
        return max(1, math.ceil(replicas * int(value[:-1]) / 100))  # rounded up, at least one
    return max(1, int(value))


def _ordinal(sts: Mapping[str, Any], pod: Mapping[str, Any]) -> int | None:
    match = re.fullmatch(rf"{re.escape(sts['metadata']['name'])}-(\d+)", str(pod["metadata"]["name"]))
    return int(match[1]) if match else None


def _revision_of(pod: Mapping[str, Any]) -> str | None:
    return ((pod.get("metadata") or {}).get("labels") or {}).get(REVISION_LABEL)


def _terminating(pod: Mapping[str, Any]) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def _healthy(pod: Mapping[str, Any] | None) -> bool:
    return pod is not None and not _terminating(pod) and is_pod_ready(pod)


class StatefulSetController:
    def __init__(self, store: Store, pods: ResourceSpec) -> None:
        self.store = store
        self.pods = pods
        self.spec = self._lookup("apps", "v1", "statefulsets")
        self.claims = self._lookup("", "v1", "persistentvolumeclaims")

    def _lookup(self, group: str, version: str, plural: str) -> ResourceSpec:
        spec = self.store.registry.lookup(group, version, plural)
        if spec is None:
            raise RuntimeError(f"{plural} must be served for the StatefulSet controller")
        return spec

    def reconcile(self, namespace: str | None, name: str) -> None:
        sts = self.store.get(self.spec, namespace, name)
        if sts is None or sts["metadata"].get("deletionTimestamp"):
            return
        rev = revision(sts)
        self._converge(sts, rev)
        self.store.write_status(self.spec, sts, self._status(sts, rev))

    def owned_pods(self, sts: Mapping[str, Any]) -> dict[int, Body]:
        pods: dict[int, Body] = {}
        for spec, namespace, name in self.store.dependents(str(sts["metadata"]["uid"])):
            pod = self.store.get(spec, namespace, name) if spec == self.pods else None
            ordinal = _ordinal(sts, pod) if pod is not None else None
            if pod is not None and ordinal is not None:
                pods[ordinal] = pod
        return pods

    def _converge(self, sts: Mapping[str, Any], rev: str) -> None:
        """One sync of the real controller: create, then condemn, then roll; ordered sets stop at a wait."""
        spec = _spec(sts)
        replicas = desired_replicas(sts)
        ordered = spec.get("podManagementPolicy", "OrderedReady") != "Parallel"
        pods = self.owned_pods(sts)
        for ordinal in range(replicas):
            pod = pods.get(ordinal)
            if pod is not None and (pod.get("status") or {}).get("phase") in _TERMINAL and not _terminating(pod):
                self._delete(pod)  # a failed pod is replaced (on the next sync, once it is gone)
                pod = None
                if ordered:
                    return
                continue
            if pod is None:
                if self.store.get(self.pods, sts["metadata"].get("namespace"), f"{sts['metadata']['name']}-{ordinal}"):
                    continue  # a pod of that name that the set does not own (not adopted here)
                self._ensure_claims(sts, ordinal)
                self.store.create(
                    self.pods, sts["metadata"].get("namespace"), new_pod(sts, ordinal, rev), enforce=False
                )
                if ordered:
                    return
            elif ordered and not _healthy(pod):
                return  # waiting for the pod to be Running and Ready
        condemned = sorted((o for o in pods if o >= replicas), reverse=True)
        for ordinal in condemned:
            pod = pods[ordinal]
            if _terminating(pod):
                if ordered:
                    return
                continue
            if ordered and not all(_healthy(pods.get(o)) for o in range(replicas)):
                return
            self._release_claims(sts, ordinal, pod)
            self._delete(pod)
            if ordered:
                return
        if (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") == "RollingUpdate":
            current = self.owned_pods(sts)  # after this sync's creations and deletions
            self._roll(sts, rev, {o: p for o, p in current.items() if o < replicas}, replicas)

    def _roll(self, sts: Mapping[str, Any], rev: str, pods: Mapping[int, Body], replicas: int) -> None:
        partition = int(((_spec(sts).get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition") or 0)
        targets = range(replicas - 1, partition - 1, -1)
        budget = _max_unavailable(sts, replicas)
        if budget is None:  # one at a time: replace the highest old pod, then wait for it to be ready
            for ordinal in targets:
                pod = pods.get(ordinal)
                if pod is None:
                    return
                if _revision_of(pod) != rev and not _terminating(pod):
                    self._delete(pod)
                    return
                if not _healthy(pod):
                    return
            return
        unavailable = sum(1 for o in range(replicas) if not _healthy(pods.get(o)))
        for ordinal in targets:
            if unavailable >= budget:
                return
            pod = pods.get(ordinal)
            if pod is not None and _revision_of(pod) != rev and not _terminating(pod):
                unavailable += _healthy(pod)
                self._delete(pod)

    def _ensure_claims(self, sts: Mapping[str, Any], ordinal: int) -> None:
        namespace = sts["metadata"].get("namespace")
        for template in _spec(sts).get("volumeClaimTemplates") or []:
            if self.store.get(self.claims, namespace, claim_name(template, sts, ordinal)) is None:
                self.store.create(self.claims, namespace, new_claim(sts, template, ordinal), enforce=False)

    def _release_claims(self, sts: Mapping[str, Any], ordinal: int, pod: Mapping[str, Any]) -> None:
        """whenScaled: Delete: the condemned pod owns its claims, so they go with it."""
        if (_spec(sts).get("persistentVolumeClaimRetentionPolicy") or {}).get("whenScaled") != "Delete":
            return
        ref = {"apiVersion": "v1", "kind": "Pod", "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]}
        namespace = sts["metadata"].get("namespace")
        for template in _spec(sts).get("volumeClaimTemplates") or []:
            claim = self.store.get(self.claims, namespace, claim_name(template, sts, ordinal))
            if claim is not None:
                refs = [*(claim["metadata"].get("ownerReferences") or []), ref]
                self.store.replace(
                    self.claims,
                    namespace,
                    claim["metadata"]["name"],
                    {**claim, "metadata": {**claim["metadata"], "ownerReferences": refs}},
                    enforce=False,
                )

    def _delete(self, pod: Mapping[str, Any]) -> None:
        current = self.store.get(self.pods, pod["metadata"].get("namespace"), str(pod["metadata"]["name"]))
        if current is not None:
            self.store.mark_deleted(self.pods, current)

    def _status(self, sts: Mapping[str, Any], rev: str) -> Body:
        pods = list(self.owned_pods(sts).values())
        previous = sts.get("status") or {}
        current_rev = previous.get("currentRevision") or rev
        ready = sum(1 for p in pods if _healthy(p))
        updated = sum(1 for p in pods if _revision_of(p) == rev)
        current = sum(1 for p in pods if _revision_of(p) == current_rev)
        strategy = (_spec(sts).get("updateStrategy") or {}).get("type", "RollingUpdate")
        if strategy == "RollingUpdate" and updated == len(pods) == ready:
            current_rev, current = rev, updated  # the rollout is complete
        status: Body = {
            "observedGeneration": sts["metadata"].get("generation", 1),
            "replicas": len(pods),
            "availableReplicas": ready,
        }
        # omitempty, as the API serialises them
        status.update(
            {
                k: v
                for k, v in (("readyReplicas", ready), ("currentReplicas", current), ("updatedReplicas", updated))
                if v
            }
        )
        status.update({"currentRevision": current_rev, "updateRevision": rev, "collisionCount": 0})
        return status
