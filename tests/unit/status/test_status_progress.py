"""What the controller may hold for the Ready write (status/write_hold.only_progress): loading progress and a
Shared cache claim going from Pending to Bound; failures, a lost claim and readiness are never held. Also the
claim's phase in status.placement[].cache and Degraded CacheClaimLost (observed_status)."""

from __future__ import annotations

import dataclasses
from typing import Any

from genai_operator.api.cache import CacheMode, ModelCache
from genai_operator.settings import Settings
from genai_operator.status.model_deployment import build_status
from genai_operator.status.write_hold import only_progress
from support.render_fixtures import assign, decision, manifest, pool

READY = {"type": "Ready", "status": "False", "reason": "ReplicasNotReady", "message": "0/1"}
CLAIM = "llama-cloud-l4-cache"


def loaded(status_: str, reason: str) -> dict[str, Any]:
    return {"type": "ModelLoaded", "status": status_, "reason": reason, "message": "m"}


def test_loading_progress_is_held_but_failures_and_readiness_are_not() -> None:
    base = {"replicas": 1, "conditions": [READY, loaded("Unknown", "Pending")]}
    loading = {"replicas": 1, "conditions": [READY, loaded("False", "Loading")]}
    failed = {"replicas": 1, "conditions": [READY, loaded("False", "NotFound")]}
    now_ready = {"replicas": 1, "conditions": [{**READY, "status": "True"}, loaded("True", "Loaded")]}
    assert only_progress(base, loading, "llama")
    assert not only_progress(loading, failed, "llama")  # failures are written at once
    assert not only_progress(loading, now_ready, "llama")  # readiness is written at once, with the progress


def shared_status(phase: str | None, **observed_extra: Any) -> dict[str, Any]:
    shared = dataclasses.replace(pool(), cache=ModelCache(mode=CacheMode.SHARED, storage_class_name="nfs"))
    observed: dict[Any, Any] = {
        ("Deployment", "llama-cloud-l4"): {
            "metadata": {"generation": 1},
            "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "replicas": 1, "readyReplicas": 0},
        }
    }
    if phase is not None:
        observed[("PersistentVolumeClaim", CLAIM)] = {"metadata": {"name": CLAIM}, "status": {"phase": phase}}
    return build_status(
        manifest(engine="VLLM", replicas=1),
        decision(assign(shared, replicas=1)),
        observed,
        generation=1,
        now="2026-12-03T00:00:00Z",
        settings=Settings(),
    )


def condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == kind)


def test_the_claim_phase_is_in_the_placement_and_binding_is_held() -> None:
    created, pending, bound = shared_status(None), shared_status("Pending"), shared_status("Bound")
    assert created["placement"][0]["cache"] == f"Shared (claim {CLAIM}, Pending)"  # no status yet
    assert bound["placement"][0]["cache"] == f"Shared (claim {CLAIM}, Bound)"
    assert created == pending
    assert only_progress(pending, bound, "llama")  # lands with Ready
    assert not only_progress(pending, bound, "mistral")  # only claims of this ModelDeployment's own naming
    assert not only_progress(pending, {**bound, "replicas": 2}, "llama")  # any other change is written at once


def test_a_lost_claim_is_degraded_and_written_at_once() -> None:
    bound, lost = shared_status("Bound"), shared_status("Lost")
    assert lost["placement"][0]["cache"] == f"Shared (claim {CLAIM}, Lost)"
    degraded = condition(lost, "Degraded")
    assert (degraded["status"], degraded["reason"]) == ("True", "CacheClaimLost")
    assert f"claim {CLAIM} lost its volume; delete the claim" in degraded["message"]
    assert condition(bound, "Degraded")["status"] == "False"
    assert not only_progress(bound, lost, "llama")


def test_an_existing_claim_is_named_without_a_phase() -> None:
    existing = dataclasses.replace(pool(), cache=ModelCache(mode=CacheMode.SHARED, existing_claim="team-models"))
    status = build_status(
        manifest(engine="VLLM", replicas=1),
        decision(assign(existing, replicas=1)),
        {},
        generation=1,
        now="2026-12-03T00:00:00Z",
        settings=Settings(),
    )
    assert status["placement"][0]["cache"] == "Shared (claim team-models)"
