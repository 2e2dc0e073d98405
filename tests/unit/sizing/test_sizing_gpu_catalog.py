"""GPU catalog: driver-reported memory, GPU Feature Discovery product labels, key aliases, device traits."""

from __future__ import annotations

import pytest

from genai_operator.formats.quantity import GIB, MIB
from genai_operator.sizing.gpu_catalog import all_gpus, gpu_by_key, gpu_by_product

REQUIRED_KEYS = (
    "nvidia-t4",
    "nvidia-l4",
    "nvidia-a10g",
    "nvidia-l40s",
    "nvidia-a100-40gb",
    "nvidia-a100-80gb",
    "nvidia-h100-80gb",
    "nvidia-h100-nvl",
    "nvidia-h200",
    "amd-mi300x",
    "nvidia-jetson-agx-orin-32gb",
    "nvidia-jetson-agx-orin-64gb",
)


def test_catalog_has_the_required_gpus_with_lower_case_unique_keys() -> None:
    keys = [gpu.key for gpu in all_gpus()]
    assert len(keys) == len(set(keys))
    assert all(key == key.lower() for key in keys)
    assert set(REQUIRED_KEYS) <= set(keys)


@pytest.mark.parametrize(
    ("key", "driver_mib"),
    [
        # nvidia-smi `memory.total` on each product
        ("nvidia-t4", 15360),
        ("nvidia-l4", 23034),
        ("nvidia-a10g", 23028),
        ("nvidia-l40s", 46068),
        ("nvidia-a100-40gb", 40536),
        ("nvidia-a100-80gb", 81920),
        ("nvidia-h100-80gb", 81559),
        ("nvidia-h100-nvl", 95830),
        ("nvidia-h200", 143771),
    ],
)
def test_usable_memory_is_what_the_driver_reports(key: str, driver_mib: int) -> None:
    gpu = gpu_by_key(key)
    assert gpu is not None
    assert gpu.usable_bytes == driver_mib * MIB


def test_usable_never_exceeds_the_datasheet_figure() -> None:
    for gpu in all_gpus():
        assert 0 < gpu.usable_bytes <= gpu.marketed_bytes, gpu.key


@pytest.mark.parametrize(
    ("key", "marketed_gib", "usable_gib"),
    [("nvidia-jetson-agx-orin-32gb", 32, 24), ("nvidia-jetson-agx-orin-64gb", 64, 48)],
)
def test_jetson_uses_a_share_of_unified_memory(key: str, marketed_gib: int, usable_gib: int) -> None:
    gpu = gpu_by_key(key)
    assert gpu is not None
    assert (gpu.marketed_bytes, gpu.usable_bytes) == (marketed_gib * GIB, usable_gib * GIB)
    assert gpu.unified_memory and gpu.arch == "arm64"
    assert gpu.resource_name == "nvidia.com/gpu"
    assert gpu.supports_bf16 and not gpu.supports_fp8


@pytest.mark.parametrize(
    ("key", "bf16", "fp8"),
    [
        ("nvidia-t4", False, False),
        ("nvidia-a10g", True, False),
        ("nvidia-a100-80gb", True, False),
        ("nvidia-l4", True, True),
        ("nvidia-l40s", True, True),
        ("nvidia-h100-80gb", True, True),
        ("nvidia-h200", True, True),
        ("amd-mi300x", True, True),
    ],
)
def test_number_format_support(key: str, bf16: bool, fp8: bool) -> None:
    gpu = gpu_by_key(key)
    assert gpu is not None
    assert (gpu.supports_bf16, gpu.supports_fp8) == (bf16, fp8)


def test_amd_gpu_uses_the_amd_resource() -> None:
    gpu = gpu_by_key("amd-mi300x")
    assert gpu is not None
    assert (gpu.vendor, gpu.resource_name, gpu.arch) == ("amd", "amd.com/gpu", "amd64")
    assert all(g.resource_name == "nvidia.com/gpu" for g in all_gpus() if g.vendor == "nvidia")


@pytest.mark.parametrize(
    ("alias", "key"),
    [
        ("l4", "nvidia-l4"),
        ("L4", "nvidia-l4"),
        ("nvidia-l4", "nvidia-l4"),
        ("h100", "nvidia-h100-80gb"),
        ("H100", "nvidia-h100-80gb"),
        ("a100-80gb", "nvidia-a100-80gb"),
        ("A100_80GB", "nvidia-a100-80gb"),
        ("a100", "nvidia-a100-40gb"),
        ("nvidia-tesla-a100", "nvidia-a100-40gb"),
        ("nvidia-tesla-t4", "nvidia-t4"),
        ("t4", "nvidia-t4"),
        ("h200", "nvidia-h200"),
        ("nvidia-h200-141gb", "nvidia-h200"),
        ("mi300x", "amd-mi300x"),
        ("jetson-agx-orin-64gb", "nvidia-jetson-agx-orin-64gb"),
        ("NVIDIA-Jetson-AGX-Orin-32GB", "nvidia-jetson-agx-orin-32gb"),
    ],
)
def test_gpu_by_key_accepts_aliases_in_any_case(alias: str, key: str) -> None:
    gpu = gpu_by_key(alias)
    assert gpu is not None and gpu.key == key


@pytest.mark.parametrize("name", ["", "nvidia-rtx-9090", "h1000", "gpu"])
def test_unknown_keys_are_none(name: str) -> None:
    assert gpu_by_key(name) is None


@pytest.mark.parametrize(
    ("product", "memory_mib", "key"),
    [
        ("NVIDIA-L4", None, "nvidia-l4"),
        ("NVIDIA-L4-SHARED", 23034, "nvidia-l4"),
        ("Tesla-T4", 15360, "nvidia-t4"),
        ("Tesla-T4-SHARED", None, "nvidia-t4"),
        ("NVIDIA-A10G", 23028, "nvidia-a10g"),
        ("NVIDIA-L40S", 46068, "nvidia-l40s"),
        ("NVIDIA-A100-SXM4-80GB", 81920, "nvidia-a100-80gb"),
        ("NVIDIA-A100-80GB-PCIe", 81920, "nvidia-a100-80gb"),
        ("NVIDIA-A100-SXM4-40GB", 40960, "nvidia-a100-40gb"),
        ("NVIDIA-A100-PCIE-40GB", 40536, "nvidia-a100-40gb"),
        ("NVIDIA-H100-80GB-HBM3", 81559, "nvidia-h100-80gb"),
        ("NVIDIA-H100-PCIe", 81559, "nvidia-h100-80gb"),
        ("NVIDIA-H100-NVL", 95830, "nvidia-h100-nvl"),
        ("NVIDIA-H200", 143771, "nvidia-h200"),
        ("nvidia-h200-shared", None, "nvidia-h200"),
        ("AMD_Instinct_MI300X_OAM", None, "amd-mi300x"),
        # Jetson: one product string, the memory label picks the module (CUDA sees all of RAM).
        ("Orin", 62841, "nvidia-jetson-agx-orin-64gb"),
        ("Orin", 30536, "nvidia-jetson-agx-orin-32gb"),
        ("Orin-SHARED", 62841, "nvidia-jetson-agx-orin-64gb"),
        ("Orin", 15388, "nvidia-jetson-orin-nx-16gb"),
        ("NVIDIA-Jetson-AGX-Orin", 62841, "nvidia-jetson-agx-orin-64gb"),
        ("NVIDIA-Jetson-AGX-Orin", None, "nvidia-jetson-agx-orin-32gb"),
    ],
)
def test_gpu_by_product_label(product: str, memory_mib: int | None, key: str) -> None:
    gpu = gpu_by_product(product, memory_mib)
    assert gpu is not None and gpu.key == key


def test_ambiguous_product_without_memory_assumes_the_smallest() -> None:
    gpu = gpu_by_product("Orin")
    assert gpu is not None
    assert gpu.marketed_bytes == min(g.marketed_bytes for g in all_gpus() if "Orin" in g.products)


@pytest.mark.parametrize("product", ["NVIDIA-A100-SXM4-40GB-MIG-1g.5gb", "NVIDIA-GeForce-RTX-4090", "", "Quadro"])
def test_mig_slices_and_unknown_products_match_nothing(product: str) -> None:
    assert gpu_by_product(product, 40960) is None


def test_every_listed_product_maps_back_to_its_gpu() -> None:
    for gpu in all_gpus():
        for product in gpu.products:
            found = gpu_by_product(product, gpu.marketed_bytes // MIB)
            assert found == gpu, (product, found)
