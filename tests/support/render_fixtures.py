"""Shared fixtures of the engine and render tests: hand-made GPU types, sizings, pools and manifests, and
strict validators for every rendered object (no tests of its own).

Kubernetes objects are validated with kubernetes-validate in strict mode (unknown fields are errors)
against the lowest and the highest Kubernetes release that are both available in the installed
kubernetes-validate and supported by the operator (DESIGN: 1.33 and newer). ScaledObjects are validated
with jsonschema against KEDA's CRD from tests/upstream_crds/, made strict the same way.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate.utils import all_versions
from packaging.version import Version

from genai_operator.api.enums import Engine, Precision, QuantMethod, ScalingBackend, Tier
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.placementpool import EngineDefaults, PlacementPool
from genai_operator.engines import EngineContext, EnginePlan, engine_profile
from genai_operator.placement.assemble import build_pools
from genai_operator.placement.types import PlacementDecision, Pool, PoolAssignment
from genai_operator.planning.plan import plan_model_deployment
from genai_operator.render import render_children
from genai_operator.settings import Settings
from genai_operator.sizing.types import GpuType, MemoryEstimate, SizingDecision
from support.paths import UPSTREAM_CRDS

GB = 1_000_000_000
MIN_SUPPORTED = Version("1.33")
KEDA_SCHEMA = UPSTREAM_CRDS / "keda.sh_scaledobjects.yaml"
# Kinds that are not in the Kubernetes schemas: validated against their upstream CRDs in tests/upstream_crds/.
CRD_SCHEMAS = {
    "ScaledObject": KEDA_SCHEMA,
    "ServiceMonitor": UPSTREAM_CRDS / "monitoring.coreos.com_servicemonitors.yaml",
    "PodMonitor": UPSTREAM_CRDS / "monitoring.coreos.com_podmonitors.yaml",
    "InferencePool": UPSTREAM_CRDS / "inference.networking.k8s.io_inferencepools.yaml",
    "HTTPRoute": UPSTREAM_CRDS / "gateway.networking.k8s.io_httproutes.yaml",
    "LeaderWorkerSet": UPSTREAM_CRDS / "leaderworkerset.x-k8s.io_leaderworkersets.yaml",
}


def _k8s_versions() -> tuple[str, ...]:
    supported = [v for v in all_versions() if Version(v) >= MIN_SUPPORTED]
    first, last = Version(supported[0]), Version(supported[-1])
    return tuple(dict.fromkeys((f"{first.major}.{first.minor}", f"{last.major}.{last.minor}")))


K8S_VERSIONS = _k8s_versions()
DRA_GA = Version("1.34")  # resource.k8s.io/v1 (ResourceClaimTemplate for MIG slices under DRA)

L4 = GpuType(
    "nvidia-l4",
    "L4",
    "nvidia",
    "nvidia.com/gpu",
    24 * GB,
    23 * GB,
    ("NVIDIA-L4",),
    supports_bf16=True,
    supports_fp8=True,
)
T4 = GpuType("nvidia-t4", "T4", "nvidia", "nvidia.com/gpu", 16 * GB, 15 * GB, ("Tesla-T4",), supports_bf16=False)
A100 = GpuType(
    "nvidia-a100-80gb",
    "A100 80GB",
    "nvidia",
    "nvidia.com/gpu",
    80 * GB,
    79 * GB,
    ("NVIDIA-A100-SXM4-80GB", "NVIDIA-A100-80GB-PCIe"),
)
H100 = GpuType(
    "nvidia-h100-80gb",
    "H100 80GB",
    "nvidia",
    "nvidia.com/gpu",
    80 * GB,
    79 * GB,
    ("NVIDIA-H100-80GB-HBM3",),
    supports_fp8=True,
)
ORIN = GpuType(
    "nvidia-jetson-agx-orin-64gb",
    "Jetson AGX Orin",
    "nvidia",
    "nvidia.com/gpu",
    64 * GB,
    60 * GB,
    ("Orin",),
    arch="arm64",
    unified_memory=True,
)
MI300 = GpuType(
    "amd-mi300x", "MI300X", "amd", "amd.com/gpu", 192 * GB, 191 * GB, ("AMD_Instinct_MI300X_OAM",), supports_fp8=True
)
GPUS = (L4, T4, A100, H100, ORIN, MI300)


def estimate(
    precision: Precision = Precision.BF16,
    method: QuantMethod = QuantMethod.NONE,
    *,
    weights: int = 16 * GB,
    bits: float = 16.0,
    kv: int = 2 * GB,
) -> MemoryEstimate:
    overhead = 1 * GB
    return MemoryEstimate(precision, method, bits, weights, kv, 131072, overhead, weights + kv + overhead)


def sizing(
    gpu: GpuType | None = L4,
    *,
    gpus: int = 1,
    tp: int = 1,
    precision: Precision = Precision.BF16,
    method: QuantMethod = QuantMethod.NONE,
    weights: int = 16 * GB,
    bits: float = 16.0,
) -> SizingDecision:
    return SizingDecision(
        True, estimate(precision, method, weights=weights, bits=bits), gpu, gpus if gpu else 0, tp if gpu else 1
    )


def pool(
    name: str = "cloud-l4",
    tier: Tier = Tier.CLOUD,
    *,
    gpu: GpuType | None = L4,
    cpu_only: bool = False,
    selector: dict[str, str] | None = None,
    tolerations: Sequence[dict[str, Any]] = (),
    arch: str | None = None,
    resource: str = "nvidia.com/gpu",
    defaults: EngineDefaults | None = None,
) -> Pool:
    return Pool(
        name=name,
        tier=tier,
        node_selector=tuple(sorted((selector or {}).items())),
        tolerations=tuple(tolerations),
        gpu=None if cpu_only else gpu,
        cpu_only=cpu_only,
        gpu_resource=resource,
        engine_defaults=defaults,
        arch=arch,
    )


def assign(
    target: Pool, replicas: int = 1, engine: Engine = Engine.VLLM, decided: SizingDecision | None = None
) -> PoolAssignment:
    return PoolAssignment(
        pool=target, replicas=replicas, engine=engine, sizing=decided if decided is not None else sizing(target.gpu)
    )


def decision(*assignments: PoolAssignment) -> PlacementDecision:
    return PlacementDecision(assignments=tuple(assignments), fits=True)


def manifest(name: str = "llama", namespace: str | None = "ml", **spec: Any) -> ModelDeployment:
    body: dict[str, Any] = {"model": {"uri": "hf://meta-llama/Llama-3.1-8B-Instruct"}, **spec}
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    return ModelDeployment.model_validate(
        {"apiVersion": "genaiops.dev/v1alpha1", "kind": "ModelDeployment", "metadata": meta, "spec": body}
    )


def plan_for(md: ModelDeployment, assignment: PoolAssignment, settings: Settings | None = None) -> EnginePlan:
    ctx = EngineContext(md.metadata.name, md.spec, assignment, settings or Settings())
    return engine_profile(assignment.engine).plan(ctx)


def render_valid(
    md: ModelDeployment,
    placed: PlacementDecision,
    *,
    owner_uid: str | None = None,
    autoscaler: ScalingBackend | None = None,
    settings: Settings | None = None,
) -> list[dict[str, Any]]:
    """render_children, with every object validated strictly; the objects are returned for assertions."""
    objects = render_children(md, placed, owner_uid=owner_uid, autoscaler=autoscaler, settings=settings or Settings())
    validate_all(objects)
    return objects


def validate_all(objects: Iterable[dict[str, Any]]) -> None:
    for obj in objects:
        if obj["kind"] in CRD_SCHEMAS:
            validate_with_crd(obj)
            continue
        for version in K8S_VERSIONS:
            if obj["apiVersion"] == "resource.k8s.io/v1" and Version(version) < DRA_GA:
                continue  # DRA's v1 API is served from Kubernetes 1.34 on
            kubernetes_validate.validate(obj, version, strict=True)


def validate_scaled_object(obj: dict[str, Any]) -> None:
    validate_with_crd(obj)


def validate_with_crd(obj: dict[str, Any]) -> None:
    path = CRD_SCHEMAS[obj["kind"]]
    jsonschema.validate(obj, _crd_schema(path))


@functools.cache
def _crd_schema(path: Path) -> dict[str, Any]:
    crd = yaml.safe_load(path.read_text(encoding="utf-8"))
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return _strict(schema)


def _strict(node: Any) -> Any:
    """CRD schemas allow unknown fields (the API server prunes them); a typo should fail the test instead."""
    if isinstance(node, dict):
        out = {k: _strict(v) for k, v in node.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


def by_kind(objects: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def only(objects: Iterable[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = by_kind(objects, kind)
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def env_map(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}


def flag(args: Sequence[str], name: str) -> str | None:
    """The value after a flag, or None when the flag is absent."""
    items = list(args)
    return items[items.index(name) + 1] if name in items else None


def render_on_pool(
    spec: dict[str, Any], pool_spec: dict[str, Any], name: str = "model", settings: Settings | None = None
) -> list[dict[str, Any]]:
    """A ModelDeployment `spec` planned onto one PlacementPool "pool" and rendered, every object validated."""
    md = manifest(name=name, **{**spec, "placement": {"pools": ["pool"]}})
    pools = build_pools(
        [
            PlacementPool.model_validate(
                {
                    "apiVersion": "genaiops.dev/v1alpha1",
                    "kind": "PlacementPool",
                    "metadata": {"name": "pool"},
                    "spec": pool_spec,
                }
            )
        ],
        None,
    )
    decision = plan_model_deployment(md, pools)
    assert decision.fits, decision.reasons
    objects = render_children(
        md, decision, owner_uid="00000000-0000-0000-0000-000000000001", settings=settings or Settings()
    )
    validate_all(objects)
    return objects
