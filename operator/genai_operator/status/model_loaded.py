"""The ModelLoaded condition, from the model-loader init containers of a ModelDeployment's pods. Pure.

The loader writes one line to its termination log: `<Reason>: <message>` (Unauthorized, NotFound,
ChecksumMismatch, NoSpace... on failure; CacheHit or Fetched on success). The kubelet puts it in the
init container's `state.terminated.message`, or in `lastState.terminated.message` once it restarts the
container (CrashLoopBackOff), which is where the reason is read from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from genai_operator.engines.fetch import LOADER_CONTAINER

LOADED, LOADING, FAILED = "Loaded", "Loading", "Failed"
STREAMING, STREAMED = "Streaming", "Streamed"
_REASON = re.compile(r"^([A-Z][A-Za-z0-9]{1,63}): (.*)$", re.DOTALL)
# Waiting reasons of a container that is merely starting, not stuck.
_STARTING = {"PodInitializing", "ContainerCreating"}
MESSAGE_MAX = 1024


@dataclass(frozen=True)
class LoaderState:
    """One pod's loader: Loaded, Loading or Failed, with the reason and message it gave."""

    phase: str
    reason: str
    message: str = ""


def parse_message(text: str | None) -> tuple[str | None, str]:
    """(Reason, message) of a `Reason: message` termination line; (None, text) for anything else."""
    text = (text or "").strip()
    match = _REASON.match(text.splitlines()[0] if text else "")
    if match:
        return match.group(1), match.group(2).strip()
    return None, text[-MESSAGE_MAX:]


def loader_state(status: Mapping[str, Any]) -> LoaderState | None:
    """The loader's state in one pod's status; None before the kubelet reports init containers."""
    for container in status.get("initContainerStatuses") or ():
        if container.get("name") != LOADER_CONTAINER:
            continue
        state, last = container.get("state") or {}, container.get("lastState") or {}
        done = state.get("terminated")
        if done and done.get("exitCode") == 0:
            reason, message = parse_message(done.get("message"))
            return LoaderState(LOADED, reason or LOADED, message)
        failed = done if done else last.get("terminated")
        if failed and failed.get("exitCode"):
            reason, message = parse_message(failed.get("message"))
            return LoaderState(
                FAILED,
                reason or str(failed.get("reason") or "LoaderFailed"),
                message or f"the model loader exited with code {failed.get('exitCode')}",
            )
        waiting = state.get("waiting")
        if waiting and waiting.get("reason") not in _STARTING:
            # ErrImagePull, CreateContainerConfigError (a missing credentials Secret or key), ...
            return LoaderState(FAILED, str(waiting.get("reason")), str(waiting.get("message") or ""))
        return LoaderState(LOADING, LOADING)
    return None


def model_loaded(states: Iterable[LoaderState | None], replicas: int) -> tuple[bool | None, str, str]:
    """(status, reason, message) of ModelLoaded over the pods' loader states."""
    seen = [s for s in states if s is not None]
    failed = [s for s in seen if s.phase == FAILED]
    loaded = [s for s in seen if s.phase == LOADED]
    if failed:
        first = failed[0]
        return False, first.reason, f"{len(failed)} of {len(seen)} pod(s): {first.message}".rstrip(": ")
    if loaded and len(loaded) == len(seen):
        hits = sum(1 for s in loaded if s.reason == "CacheHit")
        detail = f" ({hits} from the cache)" if hits else ""
        return True, "Loaded", f"model files in place on {len(loaded)} pod(s){detail}"
    if seen:
        return False, LOADING, f"fetching the model on {len(seen) - len(loaded)} pod(s); {len(loaded)} done"
    if replicas == 0:
        return None, "NoReplicas", "no replica is running"
    return None, "Pending", "waiting for pods to start"


def streamed_loaded(loaded: tuple[bool | None, str, str], is_ready: bool, ready: int) -> tuple[bool | None, str, str]:
    """ModelLoaded when vLLM streams the weights (spec.model.loadFormat Stream): with no adapters to fetch there
    is no loader to report, so the engine's readiness says the weights are in."""
    if is_ready and loaded[1] in (LOADED, "Pending"):
        return True, STREAMED, f"weights streamed from the bucket into vLLM on {ready} pod(s)"
    if loaded[1] == "Pending":
        return None, STREAMING, "vLLM streams the weights from the bucket as it starts (spec.model.loadFormat Stream)"
    return loaded


def without_model_loaded(status: Mapping[str, Any]) -> tuple[dict[str, Any], Mapping[str, Any] | None]:
    """The status without its ModelLoaded condition, and that condition (None when there is none)."""
    conditions = status.get("conditions") or []
    rest = [c for c in conditions if c.get("type") != "ModelLoaded"]
    loaded = next((c for c in conditions if c.get("type") == "ModelLoaded"), None)
    return {**status, "conditions": rest}, loaded


def is_loading_progress(loaded: Mapping[str, Any]) -> bool:
    return loaded.get("reason") in (LOADING, LOADED, "Pending", STREAMING, STREAMED)
