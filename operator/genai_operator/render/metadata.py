"""Child object metadata: name, namespace, the DESIGN labels and the owner reference to the ModelDeployment.

The owner reference makes deletion garbage collection: deleting a ModelDeployment deletes its children.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genai_operator import API_GROUP, API_VERSION
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.render.labels import common_labels

MD_API_VERSION = f"{API_GROUP}/{API_VERSION}"
MD_KIND = "ModelDeployment"


def md_namespace(md: ModelDeployment) -> str:
    """The ModelDeployment's namespace, where its children live; offline `render` input may name none."""
    return md.metadata.namespace or "default"


def owner_references(md_name: str, uid: str | None) -> list[dict[str, Any]]:
    """The controller reference to the ModelDeployment; none without a uid (offline `render`)."""
    if uid is None:
        return []
    return [
        {
            "apiVersion": MD_API_VERSION,
            "kind": MD_KIND,
            "name": md_name,
            "uid": uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def object_meta(
    name: str, namespace: str, labels: Mapping[str, str], *, md_name: str, owner_uid: str | None
) -> dict[str, Any]:
    """The metadata of a child `name` of ModelDeployment `md_name`, owned by it when its uid is known."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": dict(labels)}
    owners = owner_references(md_name, owner_uid)
    if owners:
        meta["ownerReferences"] = owners
    return meta


def child_meta(md: ModelDeployment, name: str, labels: Mapping[str, str], *, owner_uid: str | None) -> dict[str, Any]:
    """The metadata of one child named `name`, in the ModelDeployment's namespace, owned by it."""
    return object_meta(name, md_namespace(md), labels, md_name=md.metadata.name, owner_uid=owner_uid)


def shared_child_meta(md: ModelDeployment, name: str, engine_label: str, *, owner_uid: str | None) -> dict[str, Any]:
    """The metadata of a child spanning all pools (Service, PDB, autoscaler...): the ModelDeployment's labels."""
    return child_meta(md, name, common_labels(md.metadata.name, engine_label), owner_uid=owner_uid)


def scale_target_ref(md_name: str) -> dict[str, str]:
    """The ModelDeployment itself: autoscalers scale it through /scale, the operator splits the count."""
    return {"apiVersion": MD_API_VERSION, "kind": MD_KIND, "name": md_name}
