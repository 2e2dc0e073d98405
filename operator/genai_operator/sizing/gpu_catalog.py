"""Accelerators the operator can size for, and how node labels name them.

`usable_bytes` is the total the driver reports (nvidia-smi / NVML `memory.total`, which is also what
GPU Feature Discovery puts in `nvidia.com/gpu.memory`), not the datasheet figure: ECC and firmware
reservations take their share first. `marketed_bytes` is the datasheet capacity; memory vendors mean
binary units there (an "80GB" A100 has 80 GiB of HBM), so both are in bytes from GiB/MiB.

Jetson modules have no dedicated VRAM: the GPU shares LPDDR5 with the CPU and the OS, so their
`usable_bytes` is the share the GPU can realistically take while the OS and the inference server's
own process keep running (75%, a rule of thumb from JetPack deployments that keep the desktop off).
"""

from __future__ import annotations

from collections.abc import Iterable

from genai_operator.formats.quantity import GIB, MIB
from genai_operator.sizing.types import GpuType

# Share of a Jetson module's unified memory the GPU can use (see the module docstring).
JETSON_GPU_SHARE_PERCENT = 75

_NVIDIA = "nvidia.com/gpu"
_AMD = "amd.com/gpu"


def _jetson(key: str, name: str, gib: int, products: tuple[str, ...]) -> GpuType:
    return GpuType(
        key=key,
        name=name,
        vendor="nvidia",
        resource_name=_NVIDIA,
        marketed_bytes=gib * GIB,
        usable_bytes=gib * GIB * JETSON_GPU_SHARE_PERCENT // 100,
        products=products,
        supports_bf16=True,  # Ampere iGPU (sm_87)
        supports_fp8=False,
        arch="arm64",
        unified_memory=True,
    )


# Ordered from the smallest to the largest memory; `all_gpus()` keeps this order.
# MiB figures: nvidia-smi `memory.total` on each product (the same value GFD labels).
_GPUS: tuple[GpuType, ...] = (
    # Orin NX / Nano report the CUDA device name "Orin" like the AGX; the memory label tells them apart.
    _jetson("nvidia-jetson-orin-nano-8gb", "Jetson Orin Nano 8GB", 8, ("Orin", "NVIDIA-Jetson-Orin-Nano")),
    _jetson("nvidia-jetson-orin-nx-16gb", "Jetson Orin NX 16GB", 16, ("Orin", "NVIDIA-Jetson-Orin-NX")),
    GpuType(
        key="nvidia-t4",
        name="T4",
        vendor="nvidia",
        resource_name=_NVIDIA,
        marketed_bytes=16 * GIB,
        usable_bytes=15360 * MIB,  # ECC on by default in clouds
        products=("Tesla-T4", "NVIDIA-T4"),
        supports_bf16=False,  # Turing: vLLM runs bf16 checkpoints as fp16 (same size)
    ),
    GpuType(
        key="nvidia-a10g",
        name="A10G",
        vendor="nvidia",
        resource_name=_NVIDIA,
        marketed_bytes=24 * GIB,
        usable_bytes=23028 * MIB,
        products=("NVIDIA-A10G",),
    ),
    GpuType(
        key="nvidia-l4",
        name="L4",
        vendor="nvidia",
        resource_name=_NVIDIA,
        marketed_bytes=24 * GIB,
        usable_bytes=23034 * MIB,
        products=("NVIDIA-L4",),
        supports_fp8=True,  # Ada
    ),
    _jetson(
        "nvidia-jetson-agx-orin-32gb",
        "Jetson AGX Orin 32GB",
        32,
        ("Orin", "NVIDIA-Jetson-AGX-Orin", "Jetson-AGX-Orin"),
    ),
    GpuType(
        key="nvidia-a100-40gb",
        name="A100 40GB",
        vendor="nvidia",
        resource_name=_NVIDIA,
        marketed_bytes=40 * GIB,
        usable_bytes=40536 * MIB,  # both SXM4 and PCIe report 40536 MiB
        products=("NVIDIA-A100-SXM4-40GB", "NVIDIA-A100-PCIE-40GB", "A100-SXM4-40GB", "A100-PCIE-40GB"),
    ),
    GpuType(
        key="nvidia-l40s",
        name="L40S",
        vendor="nvidia",
        resource_name=_NVIDIA,
        marketed_bytes=48 * GIB,
        usable_bytes=46068 * MIB,
        products=("NVIDIA-L40S",),
        supports_fp8=True,
    ),
    _jetson(
        "nvidia-jetson-agx-orin-64gb",
        "Jetson AGX Orin 64GB",
        64,
        ("Orin", "NVIDIA-Jetson-AGX-Orin", "Jetson-AGX-Orin"),
    ),
    GpuType(
        key="nvidia-h100-80gb",
        name="H100 80GB",
        vendor="nvidia",
        resource_name=_NVIDIA,
        marketed_bytes=80 * GIB,
        usable_bytes=81559 * MIB,  # H100 SXM5 (HBM3) and H100 PCIe (HBM2e) both report 81559 MiB
        products=("NVIDIA-H100-80GB-HBM3", "NVIDIA-H100-PCIe", "NVIDIA-H100-SXM5-80GB"),
        supports_fp8=True,
    ),
    GpuType(
        key="nvidia-a100-80gb",
        name="A100 80GB",
        vendor="nvidia",
        resource_name=_NVIDIA,
        marketed_bytes=80 * GIB,
        usable_bytes=81920 * MIB,
        products=("NVIDIA-A100-SXM4-80GB", "NVIDIA-A100-80GB-PCIe", "A100-SXM4-80GB", "A100-80GB-PCIe"),
    ),
    GpuType(
        key="nvidia-h100-nvl",
        name="H100 NVL",
        vendor="nvidia",
        resource_name=_NVIDIA,
        marketed_bytes=94 * GIB,
        usable_bytes=95830 * MIB,
        products=("NVIDIA-H100-NVL",),
        supports_fp8=True,
    ),
    GpuType(
        key="nvidia-h200",
        name="H200",
        vendor="nvidia",
        resource_name=_NVIDIA,
        marketed_bytes=141 * GIB,
        usable_bytes=143771 * MIB,  # H200 SXM and H200 NVL both report 143771 MiB
        products=("NVIDIA-H200", "NVIDIA-H200-NVL"),
        supports_fp8=True,
    ),
    GpuType(
        key="amd-mi300x",
        name="MI300X",
        vendor="amd",
        resource_name=_AMD,
        marketed_bytes=192 * GIB,
        usable_bytes=196288 * MIB,  # rocm-smi "VRAM Total Memory (B): 205822885888"
        # The ROCm node labeller's `amd.com/gpu.product-name` values (the VF one is Azure's SR-IOV).
        products=(
            "AMD_Instinct_MI300X_OAM",
            "AMD_Instinct_MI300X",
            "AMD_Instinct_MI300X_VF",
            "Instinct-MI300X",
        ),
        supports_fp8=True,
    ),
)

# Extra names people write in `spec.resources.gpu.types`; GKE's `cloud.google.com/gke-accelerator`
# values are here so pools can be written with the cloud's own names. A bare "a100" means the 40GB
# card, as it does on GKE (and that is the conservative reading).
_EXTRA_ALIASES: dict[str, tuple[str, ...]] = {
    "nvidia-t4": ("nvidia-tesla-t4", "tesla-t4"),
    "nvidia-a100-40gb": ("a100", "nvidia-a100", "nvidia-tesla-a100", "a100-40gb"),
    "nvidia-a100-80gb": ("a100-80gb",),
    "nvidia-h100-80gb": ("h100", "nvidia-h100", "h100-80gb", "nvidia-h100-mega-80gb"),
    "nvidia-h100-nvl": ("h100-nvl", "nvidia-h100-nvl-94gb"),
    "nvidia-h200": ("h200", "h200-141gb", "nvidia-h200-141gb"),
    "amd-mi300x": ("mi300x", "amd-instinct-mi300x"),
}

# GFD appends this to the product when the device plugin shares a GPU by time-slicing or MPS.
_SHARED_SUFFIX = "-shared"


def _normalize(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")


def _short(key: str) -> str:
    """`nvidia-l4` -> `l4`, `amd-mi300x` -> `mi300x`: the vendor prefix is optional in aliases."""
    for prefix in ("nvidia-", "amd-"):
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


def _build_key_index(gpus: Iterable[GpuType]) -> dict[str, GpuType]:
    index: dict[str, GpuType] = {}
    for gpu in gpus:
        for alias in (gpu.key, _short(gpu.key), gpu.name, *_EXTRA_ALIASES.get(gpu.key, ())):
            index.setdefault(_normalize(alias), gpu)
    return index


def _product_key(label: str) -> str:
    """Normalize a product label: case, separators, the `-SHARED` suffix and vendor prefixes."""
    product = _normalize(label)
    if product.endswith(_SHARED_SUFFIX):
        product = product[: -len(_SHARED_SUFFIX)]
    for prefix in ("nvidia-", "tesla-"):
        if product.startswith(prefix):
            product = product[len(prefix) :]
    return product


def _build_product_index(gpus: Iterable[GpuType]) -> dict[str, tuple[GpuType, ...]]:
    index: dict[str, tuple[GpuType, ...]] = {}
    for gpu in gpus:
        for product in gpu.products:
            key = _product_key(product)
            if gpu not in index.get(key, ()):
                index[key] = (*index.get(key, ()), gpu)
    return index


_BY_KEY = _build_key_index(_GPUS)
_BY_PRODUCT = _build_product_index(_GPUS)


def all_gpus() -> tuple[GpuType, ...]:
    """Every catalog GPU, from the smallest memory to the largest."""
    return _GPUS


def gpu_by_key(key: str) -> GpuType | None:
    """The GPU named by a catalog key or a common alias (`l4`, `H100`, `a100-80gb`), any case."""
    return _BY_KEY.get(_normalize(key))


def gpu_by_product(product_label: str, memory_mib: int | None = None) -> GpuType | None:
    """The GPU behind a GFD `nvidia.com/gpu.product` (or AMD `amd.com/gpu.product-name`) label.

    `memory_mib` is the `nvidia.com/gpu.memory` label: when one product string covers several
    memory sizes (Jetson "Orin"), the entry whose capacity is closest to it wins; without it the
    smallest is assumed, which never over-promises memory.
    MIG slices (`...-MIG-1g.10gb`) are not whole GPUs and match nothing.
    """
    product = _product_key(product_label)
    if "-mig-" in product:
        return None
    candidates = _BY_PRODUCT.get(product, ())
    if not candidates:
        return None
    if memory_mib is None or memory_mib <= 0 or len(candidates) == 1:
        return min(candidates, key=lambda gpu: gpu.marketed_bytes)
    memory = memory_mib * MIB
    return min(candidates, key=lambda gpu: abs(gpu.marketed_bytes - memory))
