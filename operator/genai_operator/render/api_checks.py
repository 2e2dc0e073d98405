"""What the API server checks in the objects we render, checked before we send them.

An object the API server rejects (422) would be retried forever while the user sees nothing, so the
render refuses it up front and the ModelDeployment reports SpecValid=False with the object and the field.
The API models keep such values out where they can (patterns, CEL); this is the net behind them, for what
only the combination shows: two volumes mounted at one path, a claim name taken from a URI, a pool's
label selector, an image string. kube/actions.py reports whatever the API server still rejects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from genai_operator.formats.dns_names import MAX_NAME, MAX_STATEFULSET_NAME

SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
IMAGE = re.compile(r"^\S+$")
SUBDOMAIN_MAX = 253
# Kinds whose names are DNS labels (Services also start with a letter), and their longest valid name.
LABEL_NAMED = {"Service": MAX_NAME, "StatefulSet": MAX_STATEFULSET_NAME}


class RejectedObjectError(ValueError):
    """A rendered object the API server would reject; the message names the object, the field and why."""


def check_objects(objects: Iterable[Mapping[str, Any]]) -> None:
    for obj in objects:
        problems = list(_object_problems(obj))
        if problems:
            meta = obj.get("metadata") or {}
            raise RejectedObjectError(
                f"{obj.get('kind')} {meta.get('name')} would be rejected by the API server: " + "; ".join(problems)
            )


def _object_problems(obj: Mapping[str, Any]) -> Iterable[str]:
    kind = str(obj.get("kind"))
    meta = obj.get("metadata") or {}
    name = str(meta.get("name") or "")
    yield from _name_problems(kind, name)
    yield from _label_problems("metadata.labels", meta.get("labels") or {})
    spec = obj.get("spec") or {}
    for path, selector in _selectors(kind, spec):
        yield from _label_problems(path, selector)
    template = spec.get("template")
    if kind in ("Deployment", "StatefulSet") and isinstance(template, Mapping):
        claims = {str((t.get("metadata") or {}).get("name")) for t in spec.get("volumeClaimTemplates") or []}
        yield from _pod_problems("spec.template.spec", template.get("spec") or {}, claims)


def _name_problems(kind: str, name: str) -> Iterable[str]:
    limit = LABEL_NAMED.get(kind)
    if limit is None:
        if len(name) > SUBDOMAIN_MAX or not SUBDOMAIN.match(name):
            yield f"metadata.name {name!r}: not a DNS-1123 subdomain"
        return
    if len(name) > limit or not (DNS_1035 if kind == "Service" else DNS_LABEL).match(name):
        yield f"metadata.name {name!r}: not a DNS label of at most {limit} characters"


def _selectors(kind: str, spec: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """(field path, matchLabels) of every label selector in the spec."""
    if isinstance(spec.get("selector"), Mapping):
        yield "spec.selector.matchLabels", spec["selector"].get("matchLabels") or {}
        if kind == "Service":
            yield "spec.selector", spec["selector"]
    if kind == "NetworkPolicy":
        yield "spec.podSelector.matchLabels", (spec.get("podSelector") or {}).get("matchLabels") or {}
        for i, rule in enumerate(spec.get("ingress") or []):
            for j, peer in enumerate(rule.get("from") or []):
                for field in ("podSelector", "namespaceSelector"):
                    if field in peer:
                        path = f"spec.ingress[{i}].from[{j}].{field}.matchLabels"
                        yield path, (peer[field] or {}).get("matchLabels") or {}


def _label_problems(path: str, labels: Mapping[str, Any]) -> Iterable[str]:
    for key, value in labels.items():
        prefix, _, label = str(key).rpartition("/")
        if (prefix and (len(prefix) > SUBDOMAIN_MAX or not SUBDOMAIN.match(prefix))) or (
            len(label) > MAX_NAME or not LABEL_NAME.match(label)
        ):
            yield f"{path}: invalid label key {key!r}"
        if not isinstance(value, str) or len(value) > MAX_NAME or not LABEL_VALUE.match(value):
            yield f"{path}: invalid label value {value!r} for {key!r}"


def _pod_problems(path: str, pod: Mapping[str, Any], claims: set[str]) -> Iterable[str]:
    """`claims`: the StatefulSet's volumeClaimTemplates, volumes of every pod too."""
    volumes = [v for v in pod.get("volumes") or []]
    names = [str(v.get("name")) for v in volumes]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        yield f"{path}.volumes: duplicate volume name {dup!r}"
    for i, volume in enumerate(volumes):
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim is not None and (len(str(claim)) > SUBDOMAIN_MAX or not SUBDOMAIN.match(str(claim))):
            yield f"{path}.volumes[{i}].persistentVolumeClaim.claimName {claim!r}: not a DNS-1123 subdomain"
    for group in ("initContainers", "containers"):
        for i, container in enumerate(pod.get(group) or []):
            yield from _container_problems(f"{path}.{group}[{i}]", container, set(names) | claims)


def _container_problems(path: str, container: Mapping[str, Any], volumes: set[str]) -> Iterable[str]:
    image = container.get("image")
    if not isinstance(image, str) or not IMAGE.match(image):
        yield f"{path}.image {image!r}: must be non-empty without whitespace"
    paths: list[str] = []
    for mount in container.get("volumeMounts") or []:
        if mount.get("name") not in volumes:
            yield f"{path}.volumeMounts: volume {mount.get('name')!r} is not defined"
        if mount.get("mountPath") in paths:
            yield f"{path}.volumeMounts: mountPath {mount.get('mountPath')!r} must be unique"
        paths.append(str(mount.get("mountPath")))
