"""Validation of pod specs as kube-apiserver does it for the checks the operator could get wrong.

A real API server answers 422 for a pod template with two mounts at one path in a container, a volume
mounted that is not declared, an invalid claim name or an image with whitespace; without the same answer
here, an operator that renders such an object would pass every emulated test and fail on a cluster.
Only these rules are emulated, worded as the API server words them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from genai_emulator import errors
from genai_emulator.resources import ResourceSpec

_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_TEMPLATED = ("Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Job")


def validate(spec: ResourceSpec, obj: Mapping[str, Any]) -> None:
    """Raise the 422 the API server answers for an invalid pod spec in a Pod or a workload's template."""
    body = obj.get("spec") or {}
    if spec.kind == "Pod" and spec.group == "":
        problems = list(_pod("spec", body))
    elif spec.kind in _TEMPLATED and spec.group in ("apps", "batch"):
        claims = {str((t.get("metadata") or {}).get("name")) for t in body.get("volumeClaimTemplates") or []}
        problems = list(_pod("spec.template.spec", (body.get("template") or {}).get("spec") or {}, claims))
        problems += _selector_matches_template(spec, body)
    else:
        return
    if problems:
        raise errors.invalid(spec, (obj.get("metadata") or {}).get("name"), ", ".join(problems))


def _selector_matches_template(spec: ResourceSpec, body: Mapping[str, Any]) -> list[str]:
    """apps/v1 workloads: the selector must select the template's labels (matchLabels; Jobs default theirs)."""
    if spec.group != "apps":
        return []
    wanted = (body.get("selector") or {}).get("matchLabels") or {}
    labels = ((body.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if all(labels.get(k) == v for k, v in wanted.items()):
        return []
    return [f"spec.template.metadata.labels: Invalid value: {labels!r}: `selector` does not match template `labels`"]


def _pod(path: str, pod: Mapping[str, Any], claims: Iterable[str] = ()) -> Iterable[str]:
    volumes = set(claims)
    for i, volume in enumerate(pod.get("volumes") or []):
        volumes.add(str(volume.get("name")))
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim is not None and (len(str(claim)) > 253 or not _SUBDOMAIN.match(str(claim))):
            yield (
                f'{path}.volumes[{i}].persistentVolumeClaim.claimName: Invalid value: "{claim}": a lowercase '
                "RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'"
            )
    for group in ("initContainers", "containers"):
        for i, container in enumerate(pod.get(group) or []):
            where = f"{path}.{group}[{i}]"
            image = container.get("image")
            if not isinstance(image, str) or not image or image.strip() != image:
                yield f'{where}.image: Invalid value: "{image}": must not have leading or trailing whitespace'
            seen: set[str] = set()
            for j, mount in enumerate(container.get("volumeMounts") or []):
                if mount.get("name") not in volumes:
                    yield f'{where}.volumeMounts[{j}].name: Not found: "{mount.get("name")}"'
                mount_path = str(mount.get("mountPath"))
                if mount_path in seen:
                    yield f'{where}.volumeMounts[{j}].mountPath: Invalid value: "{mount_path}": must be unique'
                seen.add(mount_path)
