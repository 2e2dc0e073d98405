"""Object metadata with the owner reference that makes deletion garbage collection."""

from __future__ import annotations

from typing import Any

from genai_operator import API_GROUP, API_VERSION

MD_API_VERSION = f"{API_GROUP}/{API_VERSION}"
MD_KIND = "ModelDeployment"


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
    name: str, namespace: str, labels: dict[str, str], *, md_name: str, owner_uid: str | None
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": dict(labels)}
    owners = owner_references(md_name, owner_uid)
    if owners:
        meta["ownerReferences"] = owners
    return meta


def scale_target_ref(md_name: str) -> dict[str, str]:
    """The ModelDeployment itself: autoscalers scale it through /scale, the operator splits the count."""
    return {"apiVersion": MD_API_VERSION, "kind": MD_KIND, "name": md_name}
