"""The ModelDeployment status from the decision and the observed children (pure; `now` is passed in)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from genai_operator.api.cache import CacheMode
from genai_operator.api.conditions import (
    AUTOSCALER_READY,
    DEGRADED,
    MODEL_LOADED,
    PLACED,
    PROGRESSING,
    READY,
    ROUTING_READY,
    SPEC_VALID,
)
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.placement.types import PlacementDecision, Pool
from genai_operator.planning.group_plan import group_fields
from genai_operator.planning.hysteresis import PoolHealth
from genai_operator.planning.mig_plan import slice_of
from genai_operator.reconcile.children import NameConflict, deployment_counts
from genai_operator.reconcile.diff import ChildKey
from genai_operator.reconcile.rollout import ONE_AT_A_TIME_NAME
from genai_operator.render.labels import md_selector
from genai_operator.render.metadata import md_namespace
from genai_operator.render.names import cache_claim_name, service_name, workload_name
from genai_operator.render.service import SERVICE_PORT
from genai_operator.settings import Settings
from genai_operator.status.conditions import condition, merge_conditions
from genai_operator.status.deprecation import spec_valid
from genai_operator.status.model_loaded import LOADED, LOADING, streamed_loaded

STREAMED = "Streamed (vLLM reads the weights from the bucket: no copy on disk)"


def selector_string(md_name: str) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(md_selector(md_name).items()))


def build_status(
    md: ModelDeployment,
    decision: PlacementDecision,
    observed: Mapping[ChildKey, Mapping[str, Any]],
    *,
    generation: int | None,
    now: str,
    settings: Settings,
    autoscaler_note: tuple[bool, str, str] | None = None,
    loaded: tuple[bool | None, str, str] | None = None,
    rollouts: Mapping[str, str] | None = None,
    conflicts: Sequence[NameConflict] = (),
    rejected: Sequence[str] = (),
    routing_note: tuple[bool, str, str] | None = None,
    routed_endpoint: str | None = None,
    site_endpoints: Sequence[Mapping[str, str]] = (),
) -> dict[str, Any]:
    """The full status for a spec that could be planned. `loaded` is ModelLoaded (from the pods' loaders),
    `rollouts` the rollout strategy per pool; `conflicts` children whose names another object holds,
    `rejected` the API server's messages for children it refused (kube/actions.py); `routing_note` is
    RoutingReady and `routed_endpoint` the routed address that replaces the Service's (spec.routing),
    `site_endpoints` the site proxies' addresses by pool."""
    name = md.metadata.name
    namespace = md_namespace(md)
    placement = []
    total = ready = 0
    rollouts_done = True
    for assignment in decision.assignments:
        dep = workload_name(name, assignment.pool)
        _, pool_ready, done = deployment_counts(observed, dep)
        pool_ready = min(pool_ready, assignment.replicas)
        rollouts_done = rollouts_done and (done or assignment.replicas == 0)
        total += assignment.replicas
        ready += pool_ready
        sizing = assignment.sizing
        entry = {
            "pool": assignment.pool.name,
            "replicas": assignment.replicas,
            "readyReplicas": pool_ready,
            "engine": assignment.engine.value,
            "precision": sizing.estimate.precision.value,
            "gpuType": sizing.gpu.key if sizing.gpu else "cpu",
            "gpusPerReplica": sizing.total_gpus,
            "reason": assignment.reason,
            "cache": STREAMED if md.spec.model.streamed else cache_description(name, assignment.pool, observed),
        }
        if rollouts and assignment.pool.name in rollouts:
            entry["rollout"] = rollouts[assignment.pool.name]
        placement.append(entry)
    primary = decision.primary
    # Never advertise a Service another ModelDeployment owns: its endpoint serves the other model.
    service_taken = any(c.kind == "Service" and c.name == service_name(name) for c in conflicts)
    status: dict[str, Any] = {
        "observedGeneration": generation,
        "replicas": total,
        "readyReplicas": ready,
        "selector": selector_string(name),
        # The Service's port, whatever port the engine listens on (the Service maps it by name).
        "endpoint": f"http://{service_name(name)}.{namespace}.{settings.cluster_domain}:{SERVICE_PORT}/v1",
        "placement": placement,
    }
    if service_taken:
        del status["endpoint"]
    if routed_endpoint is not None:
        status["endpoint"] = routed_endpoint
    if site_endpoints:
        status["siteEndpoints"] = [dict(e) for e in site_endpoints]
    if primary is not None:
        est = primary.sizing.estimate
        status["sizing"] = {
            "task": md.spec.task.value,
            "engine": primary.engine.value,
            "precision": est.precision.value,
            "weightsBytes": est.weights_bytes,
            "kvCacheBytes": est.kv_cache_bytes,
            "totalBytesPerReplica": est.total_bytes,
            "gpuType": primary.sizing.gpu.key if primary.sizing.gpu else "cpu",
            "gpusPerReplica": primary.sizing.gpus_per_replica,
            "tensorParallel": primary.sizing.tensor_parallel,
            **group_fields(primary.sizing),
            "kvCacheTokens": primary.sizing.kv_tokens,
            "fullContextSequences": primary.sizing.full_sequences,
        }
        if (found := slice_of(primary)) is not None:
            status["sizing"]["slice"] = found
    pending_note = decision.pending_note
    is_ready = total > 0 and ready >= total and not service_taken
    scaled_to_zero = total == 0 and md.spec.scaling is not None and md.spec.scaling.min_replicas == 0
    refused = _refused(conflicts, rejected)
    conditions = [
        condition(SPEC_VALID, False, *refused[1:]) if rejected else condition(SPEC_VALID, True, *spec_valid(decision)),
        condition(
            PLACED,
            True,
            "Placed",
            ", ".join(f"{p['pool']}={p['replicas']}" for p in placement)
            + (f"; {pending_note}" if pending_note else ""),
        ),
        condition(
            READY,
            is_ready,
            *(refused[1:] if service_taken or rejected else _ready_reason(is_ready, scaled_to_zero, total, ready)),
        ),
        condition(
            PROGRESSING,
            not (rollouts_done and is_ready) and total > 0,
            "RollingOut" if not (rollouts_done and is_ready) and total > 0 else "Stable",
            _progress_message(is_ready, rollouts_done, total, placement),
        ),
        condition(DEGRADED, *refused)
        if refused[0]
        else condition(
            DEGRADED,
            *_degraded(
                pending_note,
                observed,
                decision,
                name,
                loaded,
                image_volume=md.spec.model.uri.startswith("oci://") and settings.oci_models == "ImageVolume",
            ),
        ),
    ]
    if autoscaler_note is not None:
        ok, reason, message = autoscaler_note
        conditions.append(condition(AUTOSCALER_READY, ok, reason, message))
    if routing_note is not None:
        conditions.append(condition(ROUTING_READY, *routing_note))
    if loaded is not None:
        if is_ready and loaded[1] in (LOADING, "Pending"):
            # Init containers finish before a pod can be ready: the pod watch is only behind the Deployment's.
            loaded = (True, LOADED, f"model files in place on {ready} pod(s)")
        if md.spec.model.streamed:
            loaded = streamed_loaded(loaded, is_ready, ready)
        conditions.append(condition(MODEL_LOADED, *loaded))
    old_conditions = (md.status.conditions if md.status else None) or []
    status["conditions"] = merge_conditions([c.to_dict() for c in old_conditions], conditions, now, generation)
    return status


def _refused(conflicts: Sequence[NameConflict], rejected: Sequence[str]) -> tuple[bool, str, str]:
    """Degraded for children that do not exist as rendered: refused by the API server, or names taken."""
    if rejected:
        return True, "RejectedByApiServer", "the API server rejected " + "; ".join(rejected)
    if conflicts:
        return True, "NameConflict", "; ".join(c.message for c in conflicts)
    return False, "", ""


OCI_HINT = (
    "; oci:// models are mounted as image volumes here (GENAI_OPERATOR_OCI_MODELS=ImageVolume), which need "
    "Kubernetes 1.35+ (or the ImageVolume feature gate on 1.31-1.34) and a runtime that supports them; "
    "elsewhere set it to Pull (chart value ociModels: Pull) so the model loader pulls the artifact"
)


def _degraded(
    pending_note: str,
    observed: Mapping[ChildKey, Mapping[str, Any]],
    decision: PlacementDecision,
    md_name: str,
    loaded: tuple[bool | None, str, str] | None,
    *,
    image_volume: bool,
) -> tuple[bool, str, str]:
    """Degraded: what keeps replicas from serving that the user or the platform team has to act on."""
    if pending_note:
        return True, "InsufficientCapacity", pending_note
    for assignment in decision.assignments:
        cache = assignment.pool.cache
        claim = cache_claim_name(md_name, assignment.pool.name)
        if cache.mode == CacheMode.SHARED and not cache.existing_claim and claim_phase(observed, claim) == "Lost":
            return (
                True,
                "CacheClaimLost",
                (
                    f"pool {assignment.pool.name}: claim {claim} lost its volume; delete the claim and the operator "
                    "creates it again (replicas download the model again)"
                ),
            )
    for assignment in decision.assignments:
        dep = observed.get(("Deployment", workload_name(md_name, assignment.pool))) or {}
        for cond in (dep.get("status") or {}).get("conditions") or []:
            # Pods the API server refused (quota, admission, an unsupported volume such as oci:// image volumes
            # on a cluster without the ImageVolume feature) or a rollout past its deadline.
            if cond.get("type") == "ReplicaFailure" and cond.get("status") == "True":
                hint = OCI_HINT if image_volume else ""
                return True, "ReplicaFailure", f"pool {assignment.pool.name}: {cond.get('message', '')}{hint}"
            if cond.get("type") == "Progressing" and cond.get("reason") == "ProgressDeadlineExceeded":
                return True, "ProgressDeadlineExceeded", f"pool {assignment.pool.name}: {cond.get('message', '')}"
    if loaded is not None and loaded[0] is False and loaded[1] not in (LOADING, "Pending"):
        return True, "ModelLoadFailed", loaded[2]
    return False, "AsExpected", "all replicas have room"


def cache_description(md_name: str, pool: Pool, observed: Mapping[ChildKey, Mapping[str, Any]]) -> str:
    cache = pool.cache
    if cache.mode == CacheMode.SHARED:
        if cache.existing_claim:  # the platform team's claim: not ours to watch
            return f"Shared (claim {cache.existing_claim})"
        claim = cache_claim_name(md_name, pool.name)
        return shared_claim_description(claim, claim_phase(observed, claim))
    if cache.mode == CacheMode.NODE_LOCAL:
        return "NodeLocal (a claim per replica)"
    return "None (emptyDir: every start downloads)"


def shared_claim_description(claim: str, phase: str) -> str:
    """status.placement[].cache of a Shared cache on a claim of ours, with the claim's phase."""
    return f"Shared (claim {claim}, {phase})"


def claim_phase(observed: Mapping[ChildKey, Mapping[str, Any]], claim: str) -> str:
    """Pending until the claim is seen bound (a claim just created has no status yet)."""
    return str(((observed.get(("PersistentVolumeClaim", claim)) or {}).get("status") or {}).get("phase") or "Pending")


def _progress_message(is_ready: bool, rollouts_done: bool, total: int, placement: list[dict[str, Any]]) -> str:
    if total == 0 or (is_ready and rollouts_done):
        return "rollout complete"
    tight = [p["pool"] for p in placement if p.get("rollout") == ONE_AT_A_TIME_NAME and p["replicas"] > 1]
    note = (
        (
            f"; {', '.join(tight)}: no room for an extra replica, so replicas are replaced one at a time and "
            "serving capacity there is one replica short until the rollout ends"
        )
        if tight
        else ""
    )
    if not is_ready:
        return "waiting for replicas to become ready" + note
    return "rolling out a new pod template" + note


def _ready_reason(is_ready: bool, scaled_to_zero: bool, total: int, ready: int) -> tuple[str, str]:
    if is_ready:
        return "AllReplicasReady", f"{ready}/{total} replicas ready"
    if scaled_to_zero:
        return "ScaledToZero", (
            "no replica runs: the autoscaler scaled to zero (minReplicas 0); the wake-up signal starts one on demand"
        )
    if total == 0:
        return "NoReplicas", "spec.replicas is 0"
    return "ReplicasNotReady", f"{ready}/{total} replicas ready"


def invalid_status(
    name: str, *, reason: str, message: str, generation: int | None, now: str, previous: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Status for a spec the operator cannot act on: SpecValid=False with the field and the fix; children kept."""
    old_conditions = list((previous or {}).get("conditions") or [])
    conditions = [
        condition(SPEC_VALID, False, reason, message),
        condition(READY, False, reason, "the spec must be fixed first"),
        condition(PROGRESSING, False, reason, "waiting for a valid spec"),
        condition(DEGRADED, True, reason, message),
    ]
    return {
        **(previous or {}),
        "observedGeneration": generation,
        "selector": selector_string(name),
        "conditions": merge_conditions(old_conditions, conditions, now, generation),
    }


def annotate_placement(
    status: dict[str, Any], pending_since: str | None, note: str, health: Mapping[str, PoolHealth]
) -> None:
    """Placement facts that come from time and pods, not from the plan: the pending rebalance, stuck replicas."""
    if pending_since:
        status["placementPendingSince"] = pending_since
    for entry in status.get("placement") or []:
        stuck = health.get(entry["pool"])
        if stuck is not None and stuck.unschedulable:
            entry["unschedulableReplicas"] = stuck.unschedulable
    if note:
        for cond in status.get("conditions") or []:
            if cond["type"] == PLACED:
                cond["message"] = f"{cond['message']}; {note}"
