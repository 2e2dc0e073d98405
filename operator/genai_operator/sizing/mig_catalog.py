"""MIG slice profiles per GPU: what one Multi-Instance GPU slice offers a model replica.

Profiles follow the NVIDIA MIG user guide ("Supported MIG Profiles"): a profile `<c>g.<m>gb` takes `c`
of the GPU's seven compute slices and a fraction of its memory counted in eighths; `max_instances` is
how many of that profile one GPU holds. A slice is a device of its own to CUDA, so a replica on a slice
is sized as one GPU of the slice's memory, never tensor-parallel across slices.

Memory: the MiB a slice reports (GPU Feature Discovery's `nvidia.com/mig-<profile>.memory`, the same as
`nvidia-smi mig -lgip`). The one-eighth slice of each GPU is the reported figure where we have one
(A100 80GB 1g.10gb: 9728 MiB; H100 80GB 1g.10gb: 9984 MiB; A100 40GB 1g.5gb: 4864 MiB); larger
profiles are that figure times their eighths, which under-states them slightly (the driver reserves
less per eighth on a large slice) and so never over-promises memory. GPUs without a reported figure
take 95% of an eighth of the whole GPU's usable memory, rounded down to 256 MiB.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache

from genai_operator.api.slices import PROFILE_PATTERN
from genai_operator.formats.quantity import MIB
from genai_operator.sizing.gpu_catalog import gpu_by_key
from genai_operator.sizing.types import GpuType

MIG_RESOURCE_PREFIX = "nvidia.com/mig-"
_PROFILE = re.compile(PROFILE_PATTERN)
COMPUTE_SLICES = 7


@dataclass(frozen=True)
class MigProfile:
    """One slice profile of one GPU type."""

    name: str  # "1g.10gb"
    gpu_key: str  # the whole GPU's catalog key, e.g. "nvidia-a100-80gb"
    memory_bytes: int  # what the slice reports as its total memory
    compute_slices: int  # of the GPU's seven
    memory_eighths: int  # of the GPU's eight memory slices
    max_instances: int  # of this profile on one GPU

    @property
    def resource(self) -> str:
        """The extended resource the device plugin advertises for it in the mixed strategy."""
        return MIG_RESOURCE_PREFIX + self.name


# (compute slices, memory eighths, instances per GPU) of each profile, smallest first; the profile's
# name is built from the GPU's memory per eighth (e.g. 1g.10gb on an 80 GB GPU).
_LAYOUT: tuple[tuple[int, int, int], ...] = ((1, 1, 7), (1, 2, 4), (2, 2, 3), (3, 4, 2), (4, 4, 1), (7, 8, 1))

# Per GPU: (GB in a profile name per eighth of memory, MiB one eighth reports, or None to derive it).
_GPUS: dict[str, tuple[float, int | None]] = {
    "nvidia-a100-40gb": (5, 4864),
    "nvidia-a100-80gb": (10, 9728),
    "nvidia-h100-80gb": (10, 9984),
    "nvidia-h100-nvl": (11.75, None),
    "nvidia-h200": (17.625, None),
}
# Profile names NVIDIA publishes for the GPUs whose GB per eighth is not a whole number.
_NAMES: dict[str, tuple[str, ...]] = {
    "nvidia-h100-nvl": ("1g.12gb", "1g.24gb", "2g.24gb", "3g.47gb", "4g.47gb", "7g.94gb"),
    "nvidia-h200": ("1g.18gb", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb"),
}


def _eighth_mib(gpu: GpuType, reported: int | None) -> int:
    if reported is not None:
        return reported
    return gpu.usable_bytes // MIB * 95 // 800 // 256 * 256


@cache
def profiles_of(gpu_key: str) -> tuple[MigProfile, ...]:
    """Every MIG profile of a GPU type, smallest memory first; empty for GPUs without MIG."""
    gpu = gpu_by_key(gpu_key)
    if gpu is None or gpu.key not in _GPUS:
        return ()
    gb_per_eighth, reported = _GPUS[gpu.key]
    eighth = _eighth_mib(gpu, reported)
    names = _NAMES.get(gpu.key)
    out = []
    for index, (compute, eighths, instances) in enumerate(_LAYOUT):
        name = names[index] if names else f"{compute}g.{round(gb_per_eighth * eighths)}gb"
        out.append(MigProfile(name, gpu.key, eighths * eighth * MIB, compute, eighths, instances))
    return tuple(out)


def mig_gpus() -> tuple[str, ...]:
    """Catalog keys of the GPUs that can be split into MIG slices."""
    return tuple(_GPUS)


def profile_by_name(gpu_key: str, name: str) -> MigProfile | None:
    """A profile of the GPU by its name (`1g.10gb`, or the `MIG 1g.10gb` nvidia-smi prints); media
    extensions (`+me`) share the slice's memory, so they size like the plain profile."""
    wanted = name.strip().lower().removeprefix("mig").strip().removeprefix("-").split("+")[0]
    return next((p for p in profiles_of(gpu_key) if p.name == wanted), None)


def is_profile_name(name: str) -> bool:
    """Whether a string is written like a MIG profile (`<compute>g.<memory>gb`)."""
    return bool(_PROFILE.match(name))


def slice_gpu(profile: MigProfile, *, resource: str, products: tuple[str, ...]) -> GpuType:
    """The slice as the sizing layer sees it: one device of the slice's memory, requested as `resource`,
    on nodes whose product label is one of `products`."""
    whole = gpu_by_key(profile.gpu_key)
    if whole is None:  # profiles exist only for catalog GPUs
        raise ValueError(f"no catalog GPU {profile.gpu_key}")
    return replace(
        whole,
        key=f"{whole.key}-mig-{profile.name}",
        name=f"{whole.name} MIG {profile.name}",
        resource_name=resource,
        marketed_bytes=profile.memory_eighths * whole.marketed_bytes // 8,
        usable_bytes=profile.memory_bytes,
        products=products,
    )


def mig_products(whole: GpuType, profile: MigProfile) -> tuple[str, ...]:
    """GPU Feature Discovery's product label for the slice in the single strategy: `<product>-MIG-<profile>`."""
    return tuple(f"{product}-MIG-{profile.name}" for product in whole.products)
