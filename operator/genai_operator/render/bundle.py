"""The children of one ModelDeployment, in a stable order: cache claims and Deployments (or StatefulSets)
in pool order, Service, PDB, NetworkPolicy, autoscaler."""

from __future__ import annotations

from typing import Any

from genai_operator.api.cache import CacheMode
from genai_operator.api.enums import ScalingBackend
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.engines.policy import PolicyError, check_policy
from genai_operator.engines.source import UnsupportedModelSourceError
from genai_operator.placement.types import PlacementDecision, PoolAssignment
from genai_operator.render.api_checks import RejectedObjectError, check_objects
from genai_operator.render.autoscaler import build_autoscaler
from genai_operator.render.cache_claim import build_cache_claim, needs_cache_claim
from genai_operator.render.deployment import build_deployment
from genai_operator.render.dra_claim import build_claim_template, needs_slice_claim
from genai_operator.render.leaderworkerset import build_leaderworkerset, for_groups, is_group, serves_groups
from genai_operator.render.monitor import build_service_monitor
from genai_operator.render.networkpolicy import build_network_policy
from genai_operator.render.pdb import build_pdb
from genai_operator.render.routing import build_routing
from genai_operator.render.service import build_service
from genai_operator.render.signals import MetricUnavailableError, engine_groups
from genai_operator.render.statefulset import build_statefulset
from genai_operator.settings import Settings

DEFAULT_SETTINGS = Settings()

# Specs the schema admits but no engine can serve as asked: reported as SpecValid=False / exit code 2.
RENDER_SPEC_ERRORS: tuple[type[ValueError], ...] = (
    UnsupportedModelSourceError,
    MetricUnavailableError,
    PolicyError,
    RejectedObjectError,
)


def render_children(
    md: ModelDeployment,
    decision: PlacementDecision,
    *,
    owner_uid: str | None = None,
    autoscaler: ScalingBackend | None = None,
    service_monitor: bool = False,
    routing: bool = False,
    settings: Settings = DEFAULT_SETTINGS,
) -> list[dict[str, Any]]:
    """The desired children. `autoscaler` is the resolved backend (HPA or KEDA); None renders none, as
    does a spec without scaling. `service_monitor` adds a ServiceMonitor (the caller found its CRD);
    `routing` the objects spec.routing asks for (the caller found the APIs they need).
    owner_uid None (offline render) leaves out owner references. Raises one of RENDER_SPEC_ERRORS for a spec
    the operator's policy forbids or whose objects the API server would reject."""
    check_policy(md.spec, settings)
    objects = [
        build_cache_claim(md, a, settings=settings, owner_uid=owner_uid)
        for a in decision.assignments
        if needs_cache_claim(a)
    ]
    objects += [build_claim_template(md, a, owner_uid=owner_uid) for a in decision.assignments if needs_slice_claim(a)]
    objects += [build_workload(md, a, settings=settings, owner_uid=owner_uid) for a in decision.assignments]
    engine_label = engine_groups(md, decision)[0].profile.label
    objects.append(build_service(md, decision, engine_label, owner_uid=owner_uid))
    pdb = build_pdb(md, decision, engine_label, owner_uid=owner_uid)
    if pdb is not None:
        objects.append(pdb)
    policy = build_network_policy(md, engine_label, owner_uid=owner_uid)
    if policy is not None:
        objects.append(policy)
    if serves_groups(decision):
        for_groups(objects, md.metadata.name)
    if autoscaler is not None:
        scaler = build_autoscaler(md, decision, autoscaler, engine_label, settings=settings, owner_uid=owner_uid)
        if scaler is not None:
            objects.append(scaler)
    if service_monitor:
        objects.append(build_service_monitor(md, decision, engine_label, owner_uid=owner_uid))
    if routing:
        objects += build_routing(md, decision, settings=settings, owner_uid=owner_uid, monitor=service_monitor)
    check_objects(objects)
    return objects


def build_workload(
    md: ModelDeployment, assignment: PoolAssignment, *, settings: Settings, owner_uid: str | None
) -> dict[str, Any]:
    """The pool's Deployment, its StatefulSet when the pool keeps a node-local cache per replica, or its
    LeaderWorkerSet when a replica spans several nodes."""
    if is_group(assignment):
        return build_leaderworkerset(md, assignment, settings=settings, owner_uid=owner_uid)
    if assignment.pool.cache.mode == CacheMode.NODE_LOCAL:
        return build_statefulset(md, assignment, settings=settings, owner_uid=owner_uid)
    return build_deployment(md, assignment, settings=settings, owner_uid=owner_uid)
