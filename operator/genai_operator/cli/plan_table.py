"""The table view of `genai-operator plan`: one row per model, then one per pool, then the summary."""

from __future__ import annotations

from collections.abc import Sequence

from genai_operator.formats.quantity import gib_text
from genai_operator.planning.fleet_report import PlanResult
from genai_operator.planning.usage import PoolUsage


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return lines


def _models(result: PlanResult) -> list[str]:
    headers = ["NAMESPACE/NAME", "TASK", "ENGINE", "PRECISION", "MEMORY/REPLICA", "GPU", "TP", "PLACEMENT", "FITS"]
    rows = []
    for e, missing in zip(result.entries, result.without_node, strict=True):
        gpu = (
            "-"
            if e["gpuType"] is None
            else ("cpu" if e["gpuType"] == "cpu" else f"{e['gpusPerReplica']}x {e['gpuType']}")
        )
        if (e.get("nodesPerReplica") or 1) > 1:  # a multi-node group: nodes x GPUs per node, pipeline stages in TP
            gpu = f"{e['nodesPerReplica']} nodes x {e['gpusPerNode']}x {e['gpuType']}"
        shares = [
            f"{p['pool']}={p['replicas']}" + (f" ({missing[p['pool']]} without node)" if p["pool"] in missing else "")
            for p in e["placement"]
        ]
        placement = ", ".join(shares) or "-"
        rows.append(
            [
                f"{e['namespace']}/{e['name']}",
                e["task"],
                e["engine"] or "-",
                e["precision"] or "-",
                gib_text(e["totalBytesPerReplica"]) if e["totalBytesPerReplica"] is not None else "-",
                gpu,
                str(e["tensorParallel"] or "-")
                + (f" PP {e['pipelineParallel']}" if (e.get("pipelineParallel") or 1) > 1 else ""),
                placement,
                "yes" if e["fits"] else "NO",
            ]
        )
    lines = _table(headers, rows)
    for e in result.entries:
        lines += [f"  {e['namespace']}/{e['name']}: {reason}" for reason in e["reasons"]]
    return lines


def _number(value: int | None) -> str:
    return "?" if value is None else str(value)


def _pool_row(u: PoolUsage) -> list[str]:
    cpu = u.gpu == "cpu"
    free = gib_text(u.memory_free) if u.memory_free is not None else "?"
    memory = "-" if not cpu else f"{gib_text(u.memory_used)} / {free}"
    notes = [f"{u.waiting} waiting for nodes"] if u.waiting else []
    notes += [f"{u.pending} pending"] if u.pending else []
    replicas = str(u.replicas) + (f" ({', '.join(notes)})" if notes else "")
    return [
        u.name,
        u.tier,
        u.gpu,
        _number(u.nodes),
        "-" if cpu else _number(u.gpus_total),
        "-" if cpu else str(u.gpus_used),
        "-" if cpu else _number(u.gpus_free),
        "-" if cpu else _number(u.largest_free),
        "-" if cpu or not u.gpus_short else str(u.gpus_short),
        memory,
        replicas,
    ]


def render_table(result: PlanResult) -> str:
    lines = _models(result)
    if result.pools:
        headers = ["POOL", "TIER", "GPU", "NODES", "GPUS", "USED", "FREE", "MAX-FREE/NODE", "SHORT"]
        headers += ["CPU-MEM USED/FREE", "REPLICAS"]
        lines += ["", *_table(headers, [_pool_row(u) for u in result.pools])]
        lines += result.slice_notes
    lines += ["", result.summary.line]
    return "\n".join(lines)
