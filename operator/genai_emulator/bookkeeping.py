"""Server-owned metadata: identity, timestamps, generation and owner references."""

from __future__ import annotations

import datetime
import random
import uuid
from collections.abc import Mapping
from typing import Any

# The alphabet Kubernetes uses for generateName suffixes (no vowels, no look-alikes).
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

# Fields of metadata that only the server sets and that updates must not change.
_IDENTITY_FIELDS = (
    "uid",
    "creationTimestamp",
    "name",
    "namespace",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
)


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_uid() -> str:
    return str(uuid.uuid4())


def random_suffix(length: int = 5, rng: random.Random | None = None) -> str:
    chooser = rng or random
    return "".join(chooser.choice(_SUFFIX_ALPHABET) for _ in range(length))


def spec_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether anything but metadata and status differs: the rule for bumping generation."""
    keys = (set(old) | set(new)) - {"metadata", "status"}
    return any(old.get(key) != new.get(key) for key in keys)


def carry_identity(old: Mapping[str, Any], new_meta: dict[str, Any]) -> None:
    """Restore the server-owned metadata of `old` onto the metadata of an update."""
    old_meta = old.get("metadata") or {}
    for field in _IDENTITY_FIELDS:
        if field in old_meta:
            new_meta[field] = old_meta[field]
        else:
            new_meta.pop(field, None)


def owner_uids(obj: Mapping[str, Any] | None) -> set[str]:
    if not obj:
        return set()
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return {str(ref["uid"]) for ref in refs if isinstance(ref, Mapping) and ref.get("uid")}


def without_owner(obj: Mapping[str, Any], uid: str) -> dict[str, Any]:
    """A copy with the owner reference to `uid` removed (orphaning, as the GC does)."""
    meta = dict(obj.get("metadata") or {})
    refs = [ref for ref in meta.get("ownerReferences") or [] if ref.get("uid") != uid]
    if refs:
        meta["ownerReferences"] = refs
    else:
        meta.pop("ownerReferences", None)
    return {**obj, "metadata": meta}


def same_ignoring_version(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """A no-op write: Kubernetes keeps the resourceVersion and sends no event for it."""
    old_meta = dict(old.get("metadata") or {})
    new_meta = dict(new.get("metadata") or {})
    old_meta.pop("resourceVersion", None)
    new_meta.pop("resourceVersion", None)
    if old_meta != new_meta:
        return False
    keys = (set(old) | set(new)) - {"metadata"}
    return all(old.get(key) == new.get(key) for key in keys)
