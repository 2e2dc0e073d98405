"""The shared model-cache PersistentVolumeClaim of one ModelDeployment on one pool (cache mode Shared).

ReadWriteMany, so every replica on the pool mounts it: the first replica's loader downloads (holding a lock
file), the others wait for it and then read. Owned by the ModelDeployment, so it goes with it; a pool that
names an existingClaim gets none. Its size only ever grows (reconcile/frozen_fields.py never shrinks a claim).
"""

from __future__ import annotations

from typing import Any

from genai_operator import FIELD_MANAGER
from genai_operator.api.cache import CacheMode
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.engines.base import EngineContext
from genai_operator.engines.fetch import cache_claim_size
from genai_operator.placement.types import PoolAssignment
from genai_operator.render.labels import COMPONENT, MANAGED_BY, pool_selector
from genai_operator.render.metadata import child_meta
from genai_operator.render.names import cache_claim_name
from genai_operator.settings import Settings


def claim_spec(ctx: EngineContext, access_mode: str) -> dict[str, Any]:
    """The spec of a cache claim: the pool's storage class and size (or the size derived for the model)."""
    spec: dict[str, Any] = {"accessModes": [access_mode], "resources": {"requests": {"storage": cache_claim_size(ctx)}}}
    if ctx.pool.cache.storage_class_name:
        spec["storageClassName"] = ctx.pool.cache.storage_class_name
    return spec


def needs_cache_claim(assignment: PoolAssignment) -> bool:
    cache = assignment.pool.cache
    return cache.mode == CacheMode.SHARED and not cache.existing_claim


def build_cache_claim(
    md: ModelDeployment, assignment: PoolAssignment, *, settings: Settings, owner_uid: str | None = None
) -> dict[str, Any]:
    name = md.metadata.name
    ctx = EngineContext(name=name, spec=md.spec, assignment=assignment, settings=settings)
    labels = {**pool_selector(name, assignment.pool.name), MANAGED_BY: FIELD_MANAGER, COMPONENT: "model-cache"}
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": child_meta(md, cache_claim_name(name, assignment.pool.name), labels, owner_uid=owner_uid),
        "spec": claim_spec(ctx, "ReadWriteMany"),
    }
