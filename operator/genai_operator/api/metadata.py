"""The part of ObjectMeta the operator reads from manifests."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from genai_operator.api.base import NAME_MAX, NAME_PATTERN


class ObjectMeta(BaseModel):
    """name, namespace, labels and annotations; other metadata (uid, resourceVersion...) passes through."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: Annotated[str, Field(max_length=NAME_MAX, pattern=NAME_PATTERN)]
    namespace: Annotated[str, Field(max_length=NAME_MAX, pattern=NAME_PATTERN)] | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
