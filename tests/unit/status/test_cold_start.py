"""Cold-start accounting (status/cold_start.py, controller/cold_start_pass.py): a pod's timeline read from what the
kubelet reports (creation, the model loader's run, the engine's start, Ready), the newest ready pod picked, download
and load split with and without a loader (streamed weights), nothing for pods not ready or a failed loader; and
status.coldStart with the genai_operator_cold_start_seconds series: set, kept while no pod is ready, moved only
on change, removed with the ModelDeployment."""

from __future__ import annotations

from typing import Any

from genai_operator.controller.cold_start_pass import ColdStartReport
from genai_operator.controller.metrics import OperatorMetrics
from genai_operator.status.cold_start import PodStart, cold_start, pod_start

KEY = ("ml", "llama-8b")


def pod(
    name: str,
    created: str,
    ready: str | None,
    loader: tuple[str, str, int] | None = None,
    engine: str | None = None,
) -> dict[str, Any]:
    status: dict[str, Any] = {"conditions": [{"type": "PodScheduled", "status": "True"}]}
    if ready:
        status["conditions"].append({"type": "Ready", "status": "True", "lastTransitionTime": ready})
    if loader:
        started, finished, code = loader
        terminated = {"exitCode": code, "startedAt": started, "finishedAt": finished}
        status["initContainerStatuses"] = [{"name": "model-loader", "state": {"terminated": terminated}}]
    if engine:
        status["containerStatuses"] = [{"name": "engine", "state": {"running": {"startedAt": engine}}}]
    return {"metadata": {"name": name, "creationTimestamp": created}, "status": status}


COPIED = pod(
    "llama-8b-l4-abc",
    "2026-01-01T10:00:00Z",
    "2026-01-01T10:05:30Z",
    loader=("2026-01-01T10:00:20Z", "2026-01-01T10:04:00Z", 0),
    engine="2026-01-01T10:04:01Z",
)


def test_download_is_the_loader_run_and_load_the_rest_up_to_ready() -> None:
    figures = cold_start([pod_start(COPIED)])
    assert figures is not None
    assert figures.to_status() == {
        "pod": "llama-8b-l4-abc",
        "startedAt": "2026-01-01T10:00:00Z",
        "readyAt": "2026-01-01T10:05:30Z",
        "downloadSeconds": 220,
        "loadSeconds": 90,
        "totalSeconds": 330,
    }


def test_streamed_weights_have_no_download_and_load_from_the_engine_start() -> None:
    streamed = pod("s-1", "2026-01-01T10:00:00Z", "2026-01-01T10:03:00Z", engine="2026-01-01T10:00:40Z")
    figures = cold_start([pod_start(streamed)])
    assert figures is not None
    assert (figures.download_seconds, figures.load_seconds, figures.total_seconds) == (0, 140, 180)


def test_the_newest_ready_pod_counts_and_unready_ones_do_not() -> None:
    older = pod("a", "2026-01-01T09:00:00Z", "2026-01-01T09:01:00Z")
    starting = pod("c", "2026-01-01T11:00:00Z", None, loader=("2026-01-01T11:00:05Z", "2026-01-01T11:00:50Z", 0))
    figures = cold_start([pod_start(p) for p in (older, COPIED, starting)])
    assert figures is not None and figures.pod == "llama-8b-l4-abc"
    assert cold_start([pod_start(starting)]) is None
    assert cold_start([]) is None


def test_a_loader_that_failed_before_a_restart_counts_no_download() -> None:
    failed = pod(
        "f", "2026-01-01T10:00:00Z", "2026-01-01T10:02:00Z", ("2026-01-01T10:00:10Z", "2026-01-01T10:00:30Z", 1)
    )
    start = pod_start(failed)
    assert start.loader_finished is None
    figures = cold_start([start])
    assert figures is not None and figures.download_seconds == 0 and figures.load_seconds == 120


def test_clock_skew_never_gives_negative_seconds() -> None:
    skewed = PodStart("x", created=100.0, ready=99.0, engine_started=101.0)
    figures = cold_start([skewed])
    assert figures is not None and (figures.load_seconds, figures.total_seconds) == (0, 0)


def sample(metrics: OperatorMetrics, phase: str) -> float | None:
    return metrics.registry.get_sample_value(
        "genai_operator_cold_start_seconds", {"namespace": KEY[0], "name": KEY[1], "phase": phase}
    )


def test_status_and_metric_follow_the_newest_ready_pod_and_outlive_a_scale_to_zero() -> None:
    metrics = OperatorMetrics()
    report = ColdStartReport(metrics)
    status: dict[str, Any] = {}
    report.annotate(KEY, status, {}, [pod_start(COPIED)])
    assert status["coldStart"]["totalSeconds"] == 330
    assert (sample(metrics, "download"), sample(metrics, "load"), sample(metrics, "total")) == (220, 90, 330)
    kept: dict[str, Any] = {}
    report.annotate(KEY, kept, status, [])  # scaled to zero: the last replica's figures stay
    assert kept["coldStart"] == status["coldStart"] and sample(metrics, "total") == 330
    nothing_yet: dict[str, Any] = {}
    report.annotate(("ml", "other"), nothing_yet, {}, [])
    assert "coldStart" not in nothing_yet
    report.forget(KEY)
    assert sample(metrics, "total") is None
