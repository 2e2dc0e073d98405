"""The `plan` report (DESIGN.md section 5): one JSON object per ModelDeployment, and a table view."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.placement.assemble import consume
from genai_operator.placement.types import PlacementDecision, Pool
from genai_operator.planning import SpecError, plan_model_deployment
from genai_operator.quantity import gib
from genai_operator.settings import Settings


def report_entry(md: ModelDeployment, decision: PlacementDecision) -> dict[str, Any]:
    primary = decision.primary
    entry: dict[str, Any] = {
        "name": md.metadata.name,
        "namespace": md.metadata.namespace or "default",
        "engine": None,
        "precision": None,
        "weightsBytes": None,
        "kvCacheBytes": None,
        "totalBytesPerReplica": None,
        "gpuType": None,
        "gpusPerReplica": None,
        "tensorParallel": None,
        "placement": [{"pool": a.pool.name, "replicas": a.replicas} for a in decision.assignments],
        "fits": decision.fits,
        "reasons": list(decision.reasons),
    }
    if primary is not None:
        sizing = primary.sizing
        est = sizing.estimate
        entry.update(
            {
                "engine": primary.engine.value,
                "precision": est.precision.value,
                "weightsBytes": est.weights_bytes,
                "kvCacheBytes": est.kv_cache_bytes,
                "totalBytesPerReplica": est.total_bytes,
                "gpuType": sizing.gpu.key if sizing.gpu else "cpu",
                "gpusPerReplica": sizing.gpus_per_replica,
                "tensorParallel": sizing.tensor_parallel,
            }
        )
    return entry


def plan_all(
    deployments: Sequence[ModelDeployment], pools: list[Pool] | None, settings: Settings
) -> list[dict[str, Any]]:
    """Plan every ModelDeployment in turn; each one's replicas consume pool capacity for the next.

    Raises SpecError (bad input, not a capacity answer) naming the ModelDeployment and the field.
    """
    entries = []
    for md in deployments:
        try:
            decision = plan_model_deployment(md, pools, settings)
        except SpecError as exc:
            raise SpecError(exc.field, f"{md.key()}: {exc}") from None
        entries.append(report_entry(md, decision))
        if pools is not None:
            taken = {a.pool.name: a for a in decision.assignments}
            pools = [
                consume(p, taken[p.name].sizing.gpus_per_replica, taken[p.name].replicas) if p.name in taken else p
                for p in pools
            ]
    return entries


def render_table(entries: Sequence[dict[str, Any]]) -> str:
    headers = ["NAMESPACE/NAME", "ENGINE", "PRECISION", "MEMORY/REPLICA", "GPU", "TP", "PLACEMENT", "FITS"]
    rows = []
    for e in entries:
        gpu = (
            "-"
            if e["gpuType"] is None
            else ("cpu" if e["gpuType"] == "cpu" else f"{e['gpusPerReplica']}x {e['gpuType']}")
        )
        placement = ", ".join(f"{p['pool']}={p['replicas']}" for p in e["placement"]) or "-"
        rows.append(
            [
                f"{e['namespace']}/{e['name']}",
                e["engine"] or "-",
                e["precision"] or "-",
                gib(e["totalBytesPerReplica"]) if e["totalBytesPerReplica"] is not None else "-",
                gpu,
                str(e["tensorParallel"] or "-"),
                placement,
                "yes" if e["fits"] else "NO",
            ]
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    for e in entries:
        for reason in e["reasons"]:
            lines.append(f"  {e['namespace']}/{e['name']}: {reason}")
    return "\n".join(lines)
