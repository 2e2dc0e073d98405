"""One apps/v1 Deployment per pool assignment: the engine's container placed on the pool's nodes.

A pool whose share is 0 replicas keeps its Deployment, scaled to 0. An autoscaler moving spec.replicas
up and down makes spillover pools go 0 -> N -> 0 often; scaling an existing Deployment is one patch and
keeps its rollout history, where deleting and re-creating it churns objects and events. Deployments of
pools that leave the placement decision altogether are pruned by the reconciler (they carry the pool
label).

Scheduling: the pool's nodeSelector and tolerations; on GPU pools a toleration for the GPU resource taint
and, when sizing chose a GPU type the selector does not pin, a required node affinity on the GPU Feature
Discovery product label; kubernetes.io/arch when the pool has one architecture or the image only exists
for one. Edge pools tolerate an unreachable/not-ready node for an hour, since edge links drop and
evicting a model that is serving locally only makes things worse.

Rollouts: maxSurge 1 / maxUnavailable 0 never drops serving capacity, but needs room for one extra
replica in the pool; `rollout.py` switches a rollout to one replica at a time when the pool has no room.
The progress deadline covers a cold download by the model loader plus the engine's load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from genai_operator.api.cache import CacheMode
from genai_operator.api.enums import Tier
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.engines import EngineContext, EnginePlan, engine_profile
from genai_operator.engines.base import CONTAINER, PORT_NAME, RUN_AS_USER
from genai_operator.placement.types import PoolAssignment
from genai_operator.render.expansion import escape_container
from genai_operator.render.labels import pool_labels, pool_selector
from genai_operator.render.names import workload_name
from genai_operator.render.owner import object_meta
from genai_operator.settings import Settings

DEFAULT_SETTINGS = Settings()
ARCH_LABEL = "kubernetes.io/arch"
HOSTNAME_LABEL = "kubernetes.io/hostname"
PRODUCT_LABELS = {"nvidia": "nvidia.com/gpu.product", "amd": "amd.com/gpu.product-name"}
EDGE_TAINTS = ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready")
EDGE_TOLERATION_SECONDS = 3600
# Long generations must finish: the endpoint is removed first (preStop), then in-flight requests drain.
TERMINATION_GRACE_SECONDS = 120
PRE_STOP_SLEEP_SECONDS = 10
PROGRESS_MARGIN_SECONDS = 600
REVISION_HISTORY = 3
SURGE = {"maxSurge": 1, "maxUnavailable": 0}  # rollout.py may swap in one-at-a-time when there is no room

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
    namespace: str
    labels: dict[str, str]
    selector: dict[str, str]
    plan: EnginePlan
    template: dict[str, Any]


def workload(md: ModelDeployment, assignment: PoolAssignment, settings: Settings) -> Workload:
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
    return Workload(
        workload_name(name, assignment.pool), md.metadata.namespace or "default", labels, selector, plan, template
    )


def build_deployment(
    md: ModelDeployment,
    assignment: PoolAssignment,
    *,
    settings: Settings = DEFAULT_SETTINGS,
    owner_uid: str | None = None,
) -> dict[str, Any]:
    """The pool's Deployment, or its StatefulSet when the pool keeps a node-local cache per replica."""
    if assignment.pool.cache.mode == CacheMode.NODE_LOCAL:
        from genai_operator.render.statefulset import build_statefulset  # it builds on this module

        return build_statefulset(md, assignment, settings=settings, owner_uid=owner_uid)
    parts = workload(md, assignment, settings)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": object_meta(
            parts.name, parts.namespace, parts.labels, md_name=md.metadata.name, owner_uid=owner_uid
        ),
        "spec": {
            "replicas": assignment.replicas,
            "revisionHistoryLimit": REVISION_HISTORY,
            # Longer than a cold start, or every large model's first rollout would be reported as failed.
            "progressDeadlineSeconds": progress_deadline(parts.plan),
            "strategy": {"type": "RollingUpdate", "rollingUpdate": dict(SURGE)},
            "selector": {"matchLabels": parts.selector},
            "template": parts.template,
        },
    }


def progress_deadline(plan: EnginePlan) -> int:
    return plan.fetch_seconds + plan.startup_seconds + PROGRESS_MARGIN_SECONDS


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
    node_selector = dict(ctx.pool.selector)
    arch = ctx.pool.arch or plan.node_arch
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
