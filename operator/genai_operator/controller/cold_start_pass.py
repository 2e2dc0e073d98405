"""status.coldStart and the genai_operator_cold_start_seconds gauge, from a pass's pods (status/cold_start.py).

The figures ride along in the status the pass writes anyway: the reconciler writes only what changed, and the
write hold (status/write_hold.py) lets a new replica's figures wait for the readiness that follows them. With no
replica ready (scaled to zero, a rollout between pods) the last figures are kept, in status and in the gauge.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from genai_operator.controller.metrics import OperatorMetrics
from genai_operator.controller.pass_inputs import Key
from genai_operator.status.cold_start import PHASES, PodStart, cold_start

COLD_START = "coldStart"
_SECONDS = dict(zip(PHASES, ("downloadSeconds", "loadSeconds", "totalSeconds"), strict=True))


class ColdStartReport:
    """Adds status.coldStart to a pass's status and keeps the gauge's series in step with it."""

    def __init__(self, metrics: OperatorMetrics) -> None:
        self.metrics = metrics
        self._exported: dict[Key, dict[str, int]] = {}

    def annotate(
        self, key: Key, status: dict[str, Any], old_status: Mapping[str, Any], pods: Iterable[PodStart]
    ) -> None:
        figures = cold_start(pods)
        if figures is not None:
            status[COLD_START] = figures.to_status()
        elif isinstance(old_status.get(COLD_START), Mapping):
            status[COLD_START] = dict(old_status[COLD_START])
        self._export(key, status.get(COLD_START))

    def forget(self, key: Key) -> None:
        """The ModelDeployment is gone: so are its series."""
        if self._exported.pop(key, None) is not None:
            for phase in PHASES:
                self.metrics.cold_start_seconds.remove(key[0], key[1], phase)

    def _export(self, key: Key, reported: Mapping[str, Any] | None) -> None:
        if reported is None:
            return
        values = {phase: int(reported.get(field) or 0) for phase, field in _SECONDS.items()}
        if self._exported.get(key) == values:
            return
        for phase, value in values.items():
            self.metrics.cold_start_seconds.labels(key[0], key[1], phase).set(value)
        self._exported[key] = values
