"""K trials of one size combined into one result: medians for time, the worst trial for writes and memory.

The trials are interleaved (floor, operator, floor, operator, ...) so that a slow period of the machine
hits both sides; only the first operator trial is followed by the restart (start-up and one resync).
Combined, per size:

- floorSeconds and convergeSeconds: the medians of the floor trials and of the operator trials;
- ratio: the median of the per-trial ratios (operator trial i over floor trial i, listed in `ratios`),
  which is not in general convergeSeconds / floorSeconds;
- CPU seconds (convergeCpuSeconds, floorCpuSeconds, ...) and createReconcilesPerObject: medians;
- createWritesPerObject: the worst (largest) trial, with that trial's createWritesByVerb and other request
  counts, so a write bound exceeded in any trial fails the run; createEventsPerObject: the largest too;
- peakRssBytes: the largest over the trials and the restart; rssBytesPerObject (with baselineRssBytes,
  createPeakRssBytes, settledRssBytes): the trial whose memory grew the most;
- resyncWrites, startupSeconds and the other start-up and resync figures: the first trial, the only one
  with a restart.

The per-trial times are kept as floorTrialsSeconds and convergeTrialsSeconds, and K as trials.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

# Operator-trial figures combined as the median; the rest of a trial's figures come from one chosen trial.
MEDIANS = {"convergeCpuSeconds": 2, "convergeEmulatorCpuSeconds": 2, "createReconcilesPerObject": 2}
# From the trial with the most create writes, so that the bound's failure message matches the trial.
WORST_WRITES = ("createWrites", "createWritesByVerb", "createClusterWrites", "createRequestsByVerb")
# From the trial whose memory grew the most (the per-object figure and the marginal RSS between sizes).
WORST_MEMORY = ("baselineRssBytes", "createPeakRssBytes", "settledRssBytes")


@dataclass
class Result:
    n: int
    childrenPerObject: float  # noqa: N815 (the JSON field names)
    convergeSeconds: float  # noqa: N815
    floorSeconds: float  # noqa: N815
    ratio: float
    createWritesPerObject: float  # noqa: N815
    resyncWrites: int  # noqa: N815
    peakRssBytes: int  # noqa: N815
    rssBytesPerObject: float  # noqa: N815
    startupSeconds: float  # noqa: N815
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(data.pop("extra"))
        return data


def _median(trials: Sequence[dict[str, Any]], key: str, digits: int) -> float:
    return round(float(statistics.median(t[key] for t in trials)), digits)


def combine(n: int, workers: int, floors: Sequence[dict[str, Any]], ops: Sequence[dict[str, Any]]) -> Result:
    """One Result from the floor trials and the operator trials (pair i = floors[i], ops[i]; ops[0] restarted)."""
    if not floors or len(floors) != len(ops):
        raise ValueError(f"need as many floor trials as operator trials, at least one: {len(floors)}, {len(ops)}")
    first = ops[0]
    ratios = [round(o["convergeSeconds"] / f["seconds"], 3) for f, o in zip(floors, ops, strict=True)]
    writes = max(ops, key=lambda o: o["createWrites"])
    memory = max(ops, key=lambda o: o["createPeakRssBytes"] - o["baselineRssBytes"])
    extra: dict[str, Any] = {
        "workers": workers,
        "trials": len(ops),
        "ratios": ratios,
        "floorTrialsSeconds": [round(f["seconds"], 3) for f in floors],
        "convergeTrialsSeconds": [round(o["convergeSeconds"], 3) for o in ops],
        "floorWritesPerObject": max(f["writesPerObject"] for f in floors),
        "floorCpuSeconds": _median(floors, "cpuSeconds", 2),
        "floorEmulatorCpuSeconds": _median(floors, "emulatorCpuSeconds", 2),
        "floorBackendCpu": floors[0].get("backendCpu", {}),
        "createEventsPerObject": round(max(o["createEvents"] for o in ops) / n, 3),
        "createEvents": max(o["createEvents"] for o in ops),
    }
    # The start-up and resync figures (startupWrites, periodicResync*, ...): only the first trial has them.
    extra.update({k: v for k, v in first.items() if k not in ("convergeSeconds", "startupSeconds", "createEvents")})
    extra.update({k: _median(ops, k, digits) for k, digits in MEDIANS.items()})
    extra.update({k: writes[k] for k in WORST_WRITES})
    extra.update({k: memory[k] for k in WORST_MEMORY})
    return Result(
        n=n,
        # The same in every floor trial in practice; the smallest makes the strictest write bound.
        childrenPerObject=min(f["children"] for f in floors),
        convergeSeconds=_median(ops, "convergeSeconds", 3),
        floorSeconds=_median(floors, "seconds", 3),
        ratio=round(statistics.median(ratios), 3),
        createWritesPerObject=round(writes["createWrites"] / n, 3),
        resyncWrites=first["startupWrites"] + first["periodicResyncWrites"],
        peakRssBytes=max(*(o["createPeakRssBytes"] for o in ops), first["startupPeakRssBytes"]),
        rssBytesPerObject=round((memory["createPeakRssBytes"] - memory["baselineRssBytes"]) / n, 1),
        startupSeconds=round(first["startupSeconds"], 3),
        extra=extra,
    )
