"""Dynamic Resource Allocation for MIG slices: a ResourceClaimTemplate per ModelDeployment and pool.

On a slice pool with `spec.gpu.slices.deviceClassName` (NVIDIA's DRA driver: DeviceClass mig.nvidia.com),
no extended resource is requested. Each pod gets its own ResourceClaim from the template, whose one
request takes exactly one device of the class that the CEL selector narrows to the chosen profile:
`device.attributes["gpu.nvidia.com"].profile == "1g.10gb"` (the attribute NVIDIA's driver publishes on
MIG devices). The container names the claim in `resources.claims`. resource.k8s.io/v1 is GA since
Kubernetes 1.34.
"""

from __future__ import annotations

from typing import Any

from genai_operator import FIELD_MANAGER
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.formats.dns_names import fit_name
from genai_operator.placement.types import PoolAssignment
from genai_operator.render.labels import COMPONENT, MANAGED_BY, pool_selector
from genai_operator.render.metadata import child_meta

CLAIM_NAME = "mig-slice"  # the pod's and the container's name for the claim, and the request's
PROFILE_ATTRIBUTE = 'device.attributes["gpu.nvidia.com"].profile'
SLICE_RESOURCE = "nvidia.com/gpu"  # what sizing put in the container's resources, replaced by the claim


def needs_slice_claim(assignment: PoolAssignment) -> bool:
    slices = assignment.pool.slices
    return slices is not None and bool(slices.device_class) and len(slices.profiles) == 1


def claim_template_name(md_name: str, pool: str) -> str:
    return fit_name(md_name, pool, CLAIM_NAME)


def build_claim_template(md: ModelDeployment, assignment: PoolAssignment, *, owner_uid: str | None) -> dict[str, Any]:
    slices = assignment.pool.slices
    assert slices is not None and slices.device_class and slices.profiles
    name = md.metadata.name
    labels = {**pool_selector(name, assignment.pool.name), MANAGED_BY: FIELD_MANAGER, COMPONENT: "mig-slice"}
    request = {
        "name": CLAIM_NAME,
        "exactly": {
            "deviceClassName": slices.device_class,
            "allocationMode": "ExactCount",
            "count": 1,
            "selectors": [{"cel": {"expression": f'{PROFILE_ATTRIBUTE} == "{slices.profiles[0].name}"'}}],
        },
    }
    return {
        "apiVersion": "resource.k8s.io/v1",
        "kind": "ResourceClaimTemplate",
        "metadata": child_meta(md, claim_template_name(name, assignment.pool.name), labels, owner_uid=owner_uid),
        "spec": {"spec": {"devices": {"requests": [request]}}},
    }


def claim_slice(pod_spec: dict[str, Any], md_name: str, pool: str) -> None:
    """Swap the serving container's slice request for the claim (in place)."""
    pod_spec["resourceClaims"] = [{"name": CLAIM_NAME, "resourceClaimTemplateName": claim_template_name(md_name, pool)}]
    for container in pod_spec["containers"]:
        resources = container.get("resources") or {}
        if SLICE_RESOURCE in (resources.get("limits") or {}):
            for part in ("requests", "limits"):
                (resources.get(part) or {}).pop(SLICE_RESOURCE, None)
            resources["claims"] = [{"name": CLAIM_NAME}]
