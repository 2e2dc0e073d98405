"""A PlacementPool's GPU slices: NVIDIA Multi-Instance GPU (MIG) profiles its nodes offer, or a DRA DeviceClass."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from genai_operator.api.base import ApiModel

# `<compute slices>g.<memory>gb`, as the MIG user guide, GPU Feature Discovery and the DRA driver write it.
PROFILE_PATTERN = r"^[1-7]g\.[0-9]+gb$"
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
MAX_PROFILES = 6  # a MIG GPU has six slice profiles (media extensions size like their plain profile)


class PoolSlices(ApiModel):
    """MIG slices: each replica gets one slice of the smallest offered profile that holds it (no tensor
    parallelism across slices), so several small models share one GPU."""

    profiles: list[Annotated[str, Field(max_length=16, pattern=PROFILE_PATTERN)]] = Field(
        default_factory=list,
        max_length=MAX_PROFILES,
        description="MIG profiles offered, e.g. [1g.10gb, 2g.20gb, 3g.40gb]; detected from the nodes' "
        "nvidia.com/mig-<profile> resources or GPU Feature Discovery labels when empty.",
    )
    device_class_name: str | None = Field(
        default=None,
        max_length=253,
        pattern=DNS_SUBDOMAIN_PATTERN,
        description="Dynamic Resource Allocation: the DeviceClass of MIG devices (mig.nvidia.com with NVIDIA's "
        "DRA driver). Set, each replica gets a ResourceClaimTemplate selecting the profile with CEL instead of "
        "requesting an nvidia.com/mig-<profile> extended resource.",
    )


class SliceStatus(ApiModel):
    """The MIG slice one replica runs on (status.sizing.slice)."""

    profile: str = Field(description="The MIG profile chosen: the smallest offered that holds one replica.")
    resource: str | None = Field(
        default=None,
        description="The extended resource each replica requests (nvidia.com/mig-<profile>, or "
        "nvidia.com/gpu in the single strategy).",
    )
    device_class_name: str | None = Field(
        default=None, description="DRA: the DeviceClass each replica's ResourceClaim selects the profile from."
    )
    memory_bytes: int = Field(ge=0, description="Memory of one slice of the profile, in bytes.")
