"""ModelLoaded from the loader init containers' states (status/model_loaded.py), the Warning event a new loader
failure posts (reconcile.transition_events), and the LoRA memory that sizing reserves (sizing/lora.py)."""

from __future__ import annotations

from typing import Any

import pytest

from genai_operator.sizing.lora import intermediate_size, lora_bytes
from genai_operator.sizing.model_catalog import model_by_key
from genai_operator.status.events import transition_events
from genai_operator.status.model_loaded import (
    FAILED,
    LOADED,
    LOADING,
    LoaderState,
    loader_state,
    model_loaded,
    parse_message,
)


def status(state: dict[str, Any], last: dict[str, Any] | None = None, name: str = "model-loader") -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "state": state, "restartCount": 1 if last else 0}
    if last:
        entry["lastState"] = last
    return {"phase": "Pending", "initContainerStatuses": [entry]}


UNAUTHORIZED = (
    "Unauthorized: model hf://meta-llama/Llama-3.1-8B-Instruct: the Hub answered 401; set "
    "spec.model.credentialsSecret to a Secret with key HF_TOKEN that can read this repository"
)


@pytest.mark.parametrize(
    ("pod_status", "expected"),
    [
        ({"phase": "Pending"}, None),
        (status({"waiting": {"reason": "PodInitializing"}}), LoaderState(LOADING, LOADING)),
        (status({"running": {"startedAt": "2026-11-28T00:00:00Z"}}), LoaderState(LOADING, LOADING)),
        (
            status({"terminated": {"exitCode": 0, "reason": "Completed", "message": "CacheHit: model: 15.0 GiB"}}),
            LoaderState(LOADED, "CacheHit", "model: 15.0 GiB"),
        ),
        (status({"terminated": {"exitCode": 0, "reason": "Completed"}}), LoaderState(LOADED, LOADED)),
        # The kubelet restarted it: the reason is in lastState, the current state is a back-off.
        (
            status(
                {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 10s"}},
                {"terminated": {"exitCode": 1, "reason": "Error", "message": UNAUTHORIZED}},
            ),
            LoaderState(FAILED, "Unauthorized", UNAUTHORIZED.split(": ", 1)[1]),
        ),
        (
            status({"terminated": {"exitCode": 1, "reason": "Error", "message": "Traceback (most recent call last)"}}),
            LoaderState(FAILED, "Error", "Traceback (most recent call last)"),
        ),
        (
            status({"waiting": {"reason": "CreateContainerConfigError", "message": 'secret "hf-token" not found'}}),
            LoaderState(FAILED, "CreateContainerConfigError", 'secret "hf-token" not found'),
        ),
        (
            status({"waiting": {"reason": "ErrImagePull", "message": "not found"}}),
            LoaderState(FAILED, "ErrImagePull", "not found"),
        ),
        (status({"running": {}}, name="other"), None),
    ],
)
def test_loader_state_reads_the_kubelet_report(pod_status: dict[str, Any], expected: LoaderState | None) -> None:
    assert loader_state(pod_status) == expected


def test_parse_message_needs_a_reason_word() -> None:
    assert parse_message("NoSpace: model: needs 16 GiB, 3 GiB free") == ("NoSpace", "model: needs 16 GiB, 3 GiB free")
    assert parse_message("something broke: badly") == (None, "something broke: badly")
    assert parse_message(None) == (None, "")


def test_model_loaded_aggregates_pods() -> None:
    loaded, loading = LoaderState(LOADED, "CacheHit"), LoaderState(LOADING, LOADING)
    failed = LoaderState(FAILED, "NotFound", "model hf://x/y: repository or revision not found")
    assert model_loaded([loaded, loaded], 2) == (True, "Loaded", "model files in place on 2 pod(s) (2 from the cache)")
    assert model_loaded([loaded, loading], 2)[:2] == (False, "Loading")
    status_, reason, message = model_loaded([loaded, failed, None], 3)
    assert (status_, reason) == (False, "NotFound") and message.startswith("1 of 2 pod(s): model hf://x/y")
    assert model_loaded([], 0) == (None, "NoReplicas", "no replica is running")
    assert model_loaded([None], 1)[:2] == (None, "Pending")


def condition(status_: str, reason: str) -> dict[str, Any]:
    return {"type": "ModelLoaded", "status": status_, "reason": reason, "message": "m"}


def test_a_new_loader_failure_posts_one_warning() -> None:
    loading = {"conditions": [condition("False", "Loading")]}
    failing = {"conditions": [condition("False", "Unauthorized")]}
    events = transition_events(loading, failing, 0)
    assert [(e.type, e.reason) for e in events] == [("Warning", "Unauthorized")]
    assert transition_events(failing, failing, 0) == []  # steady failure: no event storm
    assert transition_events({}, loading, 0) == []  # loading is not news


def test_lora_memory_follows_the_model_shape() -> None:
    llama = model_by_key("llama-3.1-8b")
    assert llama is not None
    assert intermediate_size(llama, llama.parameters) == 14336  # the published config
    one = lora_bytes(llama, llama.parameters, adapters=1, rank=16)
    assert one == 32 * 16 * (4 * 4096 + 2 * 4096 + 2 * 1024 + 3 * (4096 + 14336)) * 2  # 83.9 MB
    assert lora_bytes(llama, llama.parameters, adapters=2, rank=16) == 2 * one
    assert lora_bytes(llama, llama.parameters, adapters=20, rank=16) == 8 * one  # GPU slots are capped
    assert lora_bytes(llama, llama.parameters, adapters=1, rank=64) == 4 * one
    assert lora_bytes(llama, llama.parameters, adapters=0, rank=16) == 0
