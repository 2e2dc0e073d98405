"""The pod template of a pool's workload, and what its Deployment and its StatefulSet share.

Scheduling: the pool's nodeSelector and tolerations; on GPU pools a toleration for the GPU resource taint
and, when sizing chose a GPU type the selector does not pin, a required node affinity on the GPU Feature
Discovery product label; kubernetes.io/arch when the pool has one architecture or the image only exists
for one. Edge pools tolerate an unreachable/not-ready node for an hour, since edge links drop and
evicting a model that is serving locally only makes things worse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genai_operator.api.enums import Tier
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.engines import EngineContext, EnginePlan, engine_profile
from genai_operator.engines.base import CONTAINER, PORT_NAME, RUN_AS_USER
from genai_operator.placement.types import PoolAssignment
from genai_operator.render.dra_claim import claim_slice, needs_slice_claim
from genai_operator.render.expansion import escape_container
from genai_operator.render.labels import pool_labels, pool_selector
from genai_operator.render.names import workload_name
from genai_operator.settings import Settings

ARCH_LABEL = "kubernetes.io/arch"
HOSTNAME_LABEL = "kubernetes.io/hostname"
PRODUCT_LABELS = {"nvidia": "nvidia.com/gpu.product", "amd": "amd.com/gpu.product-name"}
EDGE_TAINTS = ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready")
EDGE_TOLERATION_SECONDS = 3600
# Long generations must finish: the endpoint is removed first (preStop), then in-flight requests drain.
TERMINATION_GRACE_SECONDS = 120
PRE_STOP_SLEEP_SECONDS = 10
REVISION_HISTORY = 3

POD_SECURITY: dict[str, Any] = {
    "runAsNonRoot": True,
    "runAsUser": RUN_AS_USER,
    "runAsGroup": RUN_AS_USER,
    "fsGroup": RUN_AS_USER,
    "fsGroupChangePolicy": "OnRootMismatch",
    "seccompProfile": {"type": "RuntimeDefault"},
}


def container_security(plan: EnginePlan) -> dict[str, Any]:
    security: dict[str, Any] = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": plan.read_only_root_filesystem,
        "runAsNonRoot": not plan.needs_root,
    }
    if plan.needs_root:
        security["runAsUser"] = 0  # outside the 'restricted' Pod Security level, deliberately visible
    return security


@dataclass(frozen=True)
class Workload:
    """The pieces a Deployment and a StatefulSet share for one pool assignment."""

    name: str
    labels: dict[str, str]
    selector: dict[str, str]
    ctx: EngineContext
    plan: EnginePlan
    template: dict[str, Any]


def pool_workload(md: ModelDeployment, assignment: PoolAssignment, settings: Settings) -> Workload:
    name = md.metadata.name
    pool = assignment.pool.name
    profile = engine_profile(assignment.engine)
    ctx = EngineContext(name=name, spec=md.spec, assignment=assignment, settings=settings)
    plan = profile.plan(ctx)
    labels = pool_labels(name, profile.label, pool)
    selector = pool_selector(name, pool)
    template = {
        "metadata": {"labels": labels, "annotations": {"kubectl.kubernetes.io/default-container": CONTAINER}},
        "spec": pod_spec(ctx, plan, selector),
    }
    return Workload(workload_name(name, assignment.pool), labels, selector, ctx, plan, template)


def pool_scheduling(ctx: EngineContext, arch: str | None) -> dict[str, Any]:
    """nodeSelector (the pool's, plus the architecture), GPU affinity and tolerations: a pod on this pool's nodes."""
    spec: dict[str, Any] = {}
    node_selector = dict(ctx.pool.selector)
    if arch and ARCH_LABEL not in node_selector:
        node_selector[ARCH_LABEL] = arch
    if node_selector:
        spec["nodeSelector"] = node_selector
    affinity = gpu_affinity(ctx)
    if affinity:
        spec["affinity"] = affinity
    tolerations = pod_tolerations(ctx)
    if tolerations:
        spec["tolerations"] = tolerations
    return spec


def pod_spec(ctx: EngineContext, plan: EnginePlan, selector: dict[str, str]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        # Engines never call the API server, and a Service named like the engine (say `vllm`) would
        # otherwise inject VLLM_PORT=tcp://... which vLLM reads as its own setting.
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": TERMINATION_GRACE_SECONDS,
        "securityContext": dict(POD_SECURITY),
        "initContainers": [escape_container(c) for c in plan.init_containers],
        "containers": [escape_container(container(plan))],
        "volumes": [dict(v) for v in plan.volumes],
    }
    if not plan.init_containers:  # streamed weights: nothing to fetch first
        del spec["initContainers"]
    spec.update(pool_scheduling(ctx, ctx.pool.arch or plan.node_arch))
    if needs_slice_claim(ctx.assignment):  # DRA: a MIG slice by ResourceClaim, not by extended resource
        claim_slice(spec, ctx.name, ctx.pool.name)
    if plan.image_pull_secrets:
        spec["imagePullSecrets"] = [dict(s) for s in plan.image_pull_secrets]
    spec["topologySpreadConstraints"] = [
        {
            "maxSkew": 1,
            "topologyKey": HOSTNAME_LABEL,
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": dict(selector)},
            "matchLabelKeys": ["pod-template-hash"],  # spread each rollout revision on its own
        }
    ]
    return spec


def container(plan: EnginePlan) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": CONTAINER, "image": plan.image, "imagePullPolicy": "IfNotPresent"}
    if plan.command:
        spec["command"] = list(plan.command)
    spec["args"] = list(plan.args)
    spec["ports"] = [{"name": PORT_NAME, "containerPort": plan.port, "protocol": "TCP"}]
    spec["env"] = [dict(e) for e in plan.env]
    if plan.env_from:
        spec["envFrom"] = [dict(e) for e in plan.env_from]
    spec.update(
        {
            "resources": plan.resources,
            "volumeMounts": [dict(m) for m in plan.mounts],
            "startupProbe": plan.startup_probe,
            "readinessProbe": plan.readiness_probe,
            "livenessProbe": plan.liveness_probe,
            "lifecycle": {"preStop": {"sleep": {"seconds": PRE_STOP_SLEEP_SECONDS}}},
            "securityContext": container_security(plan),
            "terminationMessagePolicy": "FallbackToLogsOnError",
        }
    )
    return spec


def gpu_affinity(ctx: EngineContext) -> dict[str, Any] | None:
    gpu = ctx.gpu
    if gpu is None or not gpu.products:
        return None
    label = PRODUCT_LABELS.get(gpu.vendor)
    if label is None or label in ctx.pool.selector:
        return None
    term = {"matchExpressions": [{"key": label, "operator": "In", "values": list(gpu.products)}]}
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}


def pod_tolerations(ctx: EngineContext) -> list[dict[str, Any]]:
    wanted: list[dict[str, Any]] = [dict(t) for t in ctx.pool.tolerations]
    if ctx.gpu is not None:
        wanted.append({"key": ctx.gpu_resource, "operator": "Exists", "effect": "NoSchedule"})
    if ctx.pool.tier == Tier.EDGE:
        wanted += [
            {"key": taint, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": EDGE_TOLERATION_SECONDS}
            for taint in EDGE_TAINTS
        ]
    unique: list[dict[str, Any]] = []
    for toleration in wanted:
        if toleration not in unique:
            unique.append(toleration)
    return unique
