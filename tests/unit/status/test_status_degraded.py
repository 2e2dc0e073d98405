"""Degraded from what the children report (observed_status.build_status): pods the API server refused
(ReplicaFailure), a rollout past its progress deadline, a failing model loader; and no double Warning
event for a loader failure."""

from __future__ import annotations

from typing import Any

from genai_operator.settings import Settings
from genai_operator.status.events import transition_events
from genai_operator.status.model_deployment import build_status
from support.render_fixtures import assign, decision, manifest, pool


def status_with(
    dep_conditions: list[dict[str, Any]], loaded: tuple[bool | None, str, str] | None = None
) -> dict[str, Any]:
    md = manifest(engine="VLLM", replicas=1)
    placed = decision(assign(pool(), replicas=1))
    observed = {
        ("Deployment", "llama-cloud-l4"): {
            "metadata": {"generation": 1},
            "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "replicas": 1, "readyReplicas": 0, "conditions": dep_conditions},
        }
    }
    return build_status(
        md, placed, observed, generation=1, now="2026-11-28T00:00:00Z", settings=Settings(), loaded=loaded
    )


def degraded(status: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in status["conditions"] if c["type"] == "Degraded")


def test_refused_pods_are_degraded_with_the_api_servers_message() -> None:
    refused = {
        "type": "ReplicaFailure",
        "status": "True",
        "reason": "FailedCreate",
        "message": 'pods "llama-cloud-l4-x" is forbidden: exceeded quota: gpu-quota',
    }
    cond = degraded(status_with([refused]))
    assert (cond["status"], cond["reason"]) == ("True", "ReplicaFailure")
    assert cond["message"] == f"pool cloud-l4: {refused['message']}"


def test_a_rollout_past_its_deadline_is_degraded() -> None:
    late = {
        "type": "Progressing",
        "status": "False",
        "reason": "ProgressDeadlineExceeded",
        "message": 'ReplicaSet "llama-cloud-l4-x" has timed out progressing.',
    }
    assert degraded(status_with([late]))["reason"] == "ProgressDeadlineExceeded"


def test_a_failing_loader_is_degraded_with_one_warning_event() -> None:
    failing = status_with([], loaded=(False, "NotFound", "1 of 1 pod(s): model hf://x/y: not found"))
    assert degraded(failing)["reason"] == "ModelLoadFailed"
    loading = status_with([], loaded=(False, "Loading", "fetching"))
    assert degraded(loading)["status"] == "False"
    events = transition_events(loading, failing, 0)
    assert [(e.type, e.reason) for e in events] == [("Warning", "NotFound")]


def test_an_oci_model_on_a_cluster_without_image_volumes_says_what_it_needs() -> None:
    md = manifest(engine="VLLM", model={"uri": "oci://reg.example.com/llama:1", "parameters": "8B"})
    placed = decision(assign(pool(), replicas=1))
    refused = {
        "type": "ReplicaFailure",
        "status": "True",
        "reason": "FailedCreate",
        "message": "Pod is invalid: spec.volumes[4]: Required value: must specify a volume type",
    }
    observed = {
        ("Deployment", "llama-cloud-l4"): {
            "metadata": {"generation": 1},
            "spec": {"replicas": 1},
            "status": {"conditions": [refused]},
        }
    }
    mounted = Settings(oci_models="ImageVolume")
    status = build_status(md, placed, observed, generation=1, now="2026-11-28T00:00:00Z", settings=mounted)
    assert "Kubernetes 1.35+" in degraded(status)["message"] and "ociModels: Pull" in degraded(status)["message"]
    pulled = build_status(md, placed, observed, generation=1, now="2026-11-28T00:00:00Z", settings=Settings())
    assert "image volume" not in degraded(pulled)["message"]  # pulled by the loader: no image volume to blame
