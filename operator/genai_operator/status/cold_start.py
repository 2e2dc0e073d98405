"""Cold-start accounting: how long a ModelDeployment's newest ready replica took to serve, and where it went. Pure.

From what the kubelet reports in the pod: its creationTimestamp, the model-loader init container's run
(startedAt to finishedAt: the download, or the check of mounted files) and the time the Ready condition last
turned True. The download is the loader's run; the load is the rest up to Ready (the engine reading the files,
compiling and warming up), counted from the end of the download, or from the engine container's start when no
loader runs (vLLM streaming the weights, whose download is then part of the load). The total also holds what
comes before either: scheduling, image pulls, volume mounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from genai_operator.engines.base import CONTAINER
from genai_operator.engines.fetch import LOADER_CONTAINER
from genai_operator.formats.timestamps import to_epoch, to_stamp

PHASES = ("download", "load", "total")  # the cold-start metric's series


@dataclass(frozen=True)
class PodStart:
    """One pod's start as the kubelet reported it, in epoch seconds (None: not reported, or not reached)."""

    pod: str
    created: float | None
    ready: float | None  # since when the Ready condition is True
    loader_started: float | None = None
    loader_finished: float | None = None  # only a loader that exited 0
    engine_started: float | None = None


@dataclass(frozen=True)
class ColdStart:
    """The figures of status.coldStart (whole seconds, as Kubernetes timestamps are)."""

    pod: str
    started_at: str
    ready_at: str
    download_seconds: int
    load_seconds: int
    total_seconds: int

    def to_status(self) -> dict[str, Any]:
        return {
            "pod": self.pod,
            "startedAt": self.started_at,
            "readyAt": self.ready_at,
            "downloadSeconds": self.download_seconds,
            "loadSeconds": self.load_seconds,
            "totalSeconds": self.total_seconds,
        }


def pod_start(pod: Mapping[str, Any]) -> PodStart:
    """The start timeline of one pod object."""
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    ready = next(
        (c for c in status.get("conditions") or () if c.get("type") == "Ready" and c.get("status") == "True"), None
    )
    loader = _named(status.get("initContainerStatuses"), LOADER_CONTAINER)
    finished = (loader.get("state") or {}).get("terminated") or {}
    done = finished.get("exitCode") == 0
    engine = _named(status.get("containerStatuses"), CONTAINER)
    return PodStart(
        pod=str(meta.get("name") or ""),
        created=to_epoch(meta.get("creationTimestamp")),
        ready=to_epoch(ready.get("lastTransitionTime")) if ready else None,
        loader_started=to_epoch(finished.get("startedAt")) if done else None,
        loader_finished=to_epoch(finished.get("finishedAt")) if done else None,
        engine_started=to_epoch(((engine.get("state") or {}).get("running") or {}).get("startedAt")),
    )


def cold_start(pods: Iterable[PodStart]) -> ColdStart | None:
    """The cold start of the newest ready pod (by creation, then name); None when no pod is ready."""
    ready = [p for p in pods if p.ready is not None and p.created is not None]
    if not ready:
        return None
    newest = max(ready, key=lambda p: (p.created or 0.0, p.pod))
    created, became_ready = newest.created or 0.0, newest.ready or 0.0
    download = 0.0
    load_from = newest.engine_started or created
    if newest.loader_started is not None and newest.loader_finished is not None:
        download = newest.loader_finished - newest.loader_started
        load_from = newest.loader_finished
    return ColdStart(
        pod=newest.pod,
        started_at=to_stamp(created),
        ready_at=to_stamp(became_ready),
        download_seconds=_seconds(download),
        load_seconds=_seconds(became_ready - load_from),
        total_seconds=_seconds(became_ready - created),
    )


def _named(statuses: Iterable[Mapping[str, Any]] | None, name: str) -> Mapping[str, Any]:
    return next((s for s in statuses or () if s.get("name") == name), {})


def _seconds(value: float) -> int:
    """Whole seconds, never negative (clocks of the kubelet and the API server may disagree a little)."""
    return max(round(value), 0)
