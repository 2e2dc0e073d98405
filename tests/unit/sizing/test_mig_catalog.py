"""The MIG slice catalog (sizing/mig_catalog.py): profiles per GPU as the MIG user guide lists them, the
memory each slice reports, and the slice as one device for the sizing layer."""

from __future__ import annotations

import pytest

from genai_operator.formats.quantity import MIB
from genai_operator.sizing.gpu_catalog import gpu_by_key
from genai_operator.sizing.mig_catalog import (
    is_profile_name,
    mig_gpus,
    mig_products,
    profile_by_name,
    profiles_of,
    slice_gpu,
)


def test_a100_80gb_profiles_follow_the_mig_user_guide() -> None:
    profiles = profiles_of("nvidia-a100-80gb")
    assert [(p.name, p.compute_slices, p.memory_eighths, p.max_instances) for p in profiles] == [
        ("1g.10gb", 1, 1, 7),
        ("1g.20gb", 1, 2, 4),
        ("2g.20gb", 2, 2, 3),
        ("3g.40gb", 3, 4, 2),
        ("4g.40gb", 4, 4, 1),
        ("7g.80gb", 7, 8, 1),
    ]
    # GPU Feature Discovery's nvidia.com/mig-1g.10gb.memory on an A100 80GB.
    assert profiles[0].memory_bytes == 9728 * MIB and profiles[0].resource == "nvidia.com/mig-1g.10gb"


def test_a100_40gb_and_h100_names_and_reported_memory() -> None:
    assert [p.name for p in profiles_of("nvidia-a100-40gb")] == [
        "1g.5gb",
        "1g.10gb",
        "2g.10gb",
        "3g.20gb",
        "4g.20gb",
        "7g.40gb",
    ]
    assert profiles_of("nvidia-a100-40gb")[0].memory_bytes == 4864 * MIB
    assert profiles_of("nvidia-h100-80gb")[0].memory_bytes == 9984 * MIB
    assert [p.name for p in profiles_of("nvidia-h200")][:2] == ["1g.18gb", "1g.35gb"]


@pytest.mark.parametrize(
    "key", ["nvidia-a100-40gb", "nvidia-a100-80gb", "nvidia-h100-80gb", "nvidia-h100-nvl", "nvidia-h200"]
)
def test_profiles_are_ordered_and_never_promise_more_than_the_gpu(key: str) -> None:
    profiles = profiles_of(key)
    gpu = gpu_by_key(key)
    assert gpu is not None and len(profiles) == 6
    sizes = [p.memory_bytes for p in profiles]
    assert sizes == sorted(sizes) and sizes[-1] <= gpu.usable_bytes
    assert all(is_profile_name(p.name) for p in profiles)


def test_gpus_without_mig_have_no_profiles_and_names_are_matched_loosely() -> None:
    assert profiles_of("nvidia-l4") == () and "nvidia-l4" not in mig_gpus()
    assert profile_by_name("nvidia-a100-80gb", "MIG 1g.10gb") == profiles_of("nvidia-a100-80gb")[0]
    assert profile_by_name("nvidia-a100-80gb", "1g.10gb+me") == profiles_of("nvidia-a100-80gb")[0]
    assert profile_by_name("nvidia-a100-80gb", "1g.5gb") is None
    assert not is_profile_name("8g.10gb") and not is_profile_name("1g10gb")


def test_a_slice_is_one_device_of_the_slice_memory() -> None:
    profile = profiles_of("nvidia-a100-80gb")[2]
    whole = gpu_by_key("nvidia-a100-80gb")
    assert whole is not None
    gpu = slice_gpu(profile, resource=profile.resource, products=mig_products(whole, profile))
    assert gpu.key == "nvidia-a100-80gb-mig-2g.20gb" and gpu.usable_bytes == profile.memory_bytes
    assert gpu.resource_name == "nvidia.com/mig-2g.20gb"
    assert "NVIDIA-A100-SXM4-80GB-MIG-2g.20gb" in gpu.products
