"""A pool's model cache: where downloaded weights live, so a restart or a new replica does not fetch them again."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from genai_operator.api.base import NAME_MAX, ApiModel
from genai_operator.api.cel import rule, validations
from genai_operator.api.scaling import QUANTITY_PATTERN


class CacheMode(StrEnum):
    NONE = "None"  # an emptyDir per pod: every start downloads
    SHARED = "Shared"  # one ReadWriteMany claim per ModelDeployment and pool: the first replica fills it
    NODE_LOCAL = "NodeLocal"  # one claim per replica on a node-local storage class (a StatefulSet)


class ModelCache(ApiModel):
    """How replicas on this pool keep model weights between starts."""

    model_config = {
        **ApiModel.model_config,
        "json_schema_extra": validations(
            rule(
                "self.mode != 'None' || (!has(self.storageClassName) && !has(self.existingClaim))",
                "cache.storageClassName and cache.existingClaim need mode Shared or NodeLocal",
                field_path=".mode",
            ),
            rule(
                "!has(self.existingClaim) || self.mode == 'Shared'",
                "cache.existingClaim is a shared claim: set mode Shared",
                field_path=".existingClaim",
            ),
        ),
    }

    mode: CacheMode = Field(
        default=CacheMode.NONE,
        description="None: an emptyDir per pod (every start downloads). Shared: a ReadWriteMany claim per "
        "ModelDeployment on this pool; the first replica downloads, the others wait and read. NodeLocal: a "
        "claim per replica from a node-local storage class (local volumes, WaitForFirstConsumer); replicas "
        "become a StatefulSet so each keeps its node and its cache.",
    )
    storage_class_name: str | None = Field(
        default=None,
        max_length=253,
        description="StorageClass of the cache claims (ReadWriteMany for Shared, a local class for NodeLocal); "
        "the cluster default when unset.",
    )
    size: str | None = Field(
        default=None,
        max_length=32,
        pattern=QUANTITY_PATTERN,
        description="Size of each cache claim; derived from the checkpoint size times keepRevisions when unset. "
        "A claim only ever grows (shrinking a PersistentVolumeClaim is not possible).",
    )
    keep_revisions: int = Field(
        default=2,
        ge=1,
        le=8,
        description="Revisions of one model kept in the cache; older ones are removed after a new one is fetched.",
    )
    existing_claim: str | None = Field(
        default=None,
        max_length=NAME_MAX,
        pattern=r"^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$",
        description="Use this ReadWriteMany claim (in each ModelDeployment's namespace) instead of creating "
        "one; models that share it share cached files.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> ModelCache:
        if self.mode == CacheMode.NONE and (self.storage_class_name or self.existing_claim):
            raise ValueError("cache.storageClassName and cache.existingClaim need mode Shared or NodeLocal")
        if self.existing_claim and self.mode != CacheMode.SHARED:
            raise ValueError("cache.existingClaim is a shared claim: set mode Shared")
        return self
