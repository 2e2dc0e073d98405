"""`genai-operator demo`: the real operator on an in-process emulated cluster with a hybrid inventory.

Starts the emulator (KMock-based, the `genai_emulator` package), loads sample nodes and PlacementPools, runs the
operator through the same coroutine as `genai-operator run`, applies every example, waits until each
ModelDeployment is Ready (or reports why not) and prints what happened.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from genai_emulator import EmulatedCluster
from genai_operator.api.crdgen import all_crds
from genai_operator.api.loading import read_documents
from genai_operator.controller.kopf_setup import operator_main
from genai_operator.controller.runtime import RunOptions

log = logging.getLogger(__name__)
MD = "genaiops.dev/v1alpha1/modeldeployments"


def _docs(path: Path) -> list[dict[str, Any]]:
    return [doc for _, doc in read_documents(str(path))] if path.exists() else []


def _condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == type_:
            return dict(cond)
    return {}


def _settled(obj: dict[str, Any]) -> bool:
    status = obj.get("status") or {}
    if status.get("observedGeneration") != obj["metadata"].get("generation"):
        return False
    return (
        _condition(obj, "Ready").get("status") == "True"
        or _condition(obj, "SpecValid").get("status") == "False"
        or _waits_for_an_api(obj)
    )


def _waits_for_an_api(obj: dict[str, Any]) -> bool:
    """Placed=False because the cluster lacks a CRD (the LeaderWorkerSet one, in the demo's emulator): the
    operator has said what to install, which is all it can do."""
    placed = _condition(obj, "Placed")
    return placed.get("status") == "False" and str(placed.get("reason", "")).endswith("CrdMissing")


def summary_table(objs: Sequence[dict[str, Any]]) -> str:
    headers = [
        "MODELDEPLOYMENT",
        "ENGINE",
        "PRECISION",
        "POOLS (REPLICAS)",
        "GPUS",
        "WEIGHTS (CACHE)",
        "READY",
        "ENDPOINT",
    ]
    rows = []
    for obj in objs:
        status = obj.get("status") or {}
        sizing = status.get("sizing") or {}
        placement = status.get("placement") or []
        pools = ", ".join(f"{p['pool']}={p['replicas']}" for p in placement) or "-"
        gpus = sum(p.get("replicas", 0) * (p.get("gpusPerReplica") or 0) for p in placement)
        kinds = sorted({f"{p.get('gpusPerReplica')}x {p.get('gpuType')}" for p in placement if p.get("gpusPerReplica")})
        gpu_desc = f"{gpus} ({', '.join(kinds)})" if kinds else ("cpu" if placement else "-")
        ready = _condition(obj, "Ready")
        ready_text = (
            f"{status.get('readyReplicas', 0)}/{status.get('replicas', 0)}"
            if ready.get("status") == "True"
            else (ready.get("reason") or "Unknown")
        )
        if _condition(obj, "SpecValid").get("status") == "False":
            ready_text = "SpecInvalid"
        caches = sorted({str(p.get("cache", "None")).split(" ")[0] for p in placement})
        weights = f"{_condition(obj, 'ModelLoaded').get('reason', '-')} ({'+'.join(caches) or '-'})"
        rows.append(
            [
                f"{obj['metadata']['namespace']}/{obj['metadata']['name']}",
                sizing.get("engine", "-"),
                sizing.get("precision", "-"),
                pools,
                gpu_desc,
                weights,
                ready_text,
                status.get("endpoint", "-"),
            ]
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


async def _demo(examples: Path, nodes: Path, pools: Path, timeout: float, show_objects: bool, out: TextIO) -> int:
    deployments = [d for d in _docs(examples) if d.get("kind") == "ModelDeployment"]
    if not deployments:
        out.write(f"no ModelDeployment manifests in {examples}\n")
        return 2
    async with EmulatedCluster(with_keda=True, with_prometheus_operator=True) as cluster:
        cluster.install_crds(list(all_crds().values()))
        cluster.add_nodes(_docs(nodes))
        for pool in _docs(pools):
            cluster.apply(pool)
        stop = asyncio.Event()
        options = RunOptions(kubeconfig=str(cluster.kubeconfig_path), metrics_port=0, resync_seconds=60)
        operator = asyncio.create_task(operator_main(options, stop_flag=stop))
        started = time.monotonic()
        for doc in deployments:
            cluster.apply(doc)
        out.write(
            f"applied {len(deployments)} ModelDeployments from {examples}/ onto "
            f"{len(_docs(nodes))} nodes; waiting for the operator...\n"
        )
        objs: list[dict[str, Any]] = []
        while time.monotonic() - started < timeout:
            objs = cluster.list(MD)
            if operator.done() or (objs and all(_settled(o) for o in objs)):
                break
            await asyncio.sleep(0.25)
        elapsed = time.monotonic() - started
        stop.set()
        try:
            await asyncio.wait_for(operator, timeout=15)
        except (TimeoutError, asyncio.CancelledError):
            operator.cancel()
        objs = sorted(cluster.list(MD), key=lambda o: (o["metadata"]["namespace"], o["metadata"]["name"]))
        settled = [o for o in objs if _settled(o)]
        out.write(f"\n{summary_table(objs)}\n\n")
        for obj in objs:
            for cond in ("SpecValid", "Placed", "Degraded"):
                c = _condition(obj, cond)
                waits = _waits_for_an_api(obj)
                if (
                    (cond == "SpecValid" and c.get("status") == "False")
                    or (cond == "Degraded" and c.get("status") == "True" and not waits)
                    or (cond == "Placed" and waits)
                ):
                    out.write(f"{obj['metadata']['name']}: {c.get('reason')}: {c.get('message')}\n")
        children = cluster.children_summary()
        out.write(f"objects created by the operator ({sum(len(v) for v in children.values())}):\n")
        for kind, names in sorted(children.items()):
            out.write(f"  {kind}: {', '.join(sorted(names))}\n")
        writes: dict[str, int] = {}
        for record in cluster.emulator.recorded_requests():
            if record.is_write and record.resource != "events":
                label = f"{record.verb} {record.resource}{'/' + record.subresource if record.subresource else ''}"
                writes[label] = writes.get(label, 0) + 1
        out.write(
            "API writes by the operator and this demo: "
            + ", ".join(f"{n} {label}" for label, n in sorted(writes.items()))
            + "\n"
        )
        out.write(f"\n{len(settled)}/{len(objs)} ModelDeployments converged in {elapsed:.1f}s\n")
        if show_objects:
            import yaml

            out.write(yaml.safe_dump_all(cluster.owned_objects(), sort_keys=False))
        return 0 if len(settled) == len(objs) else 1


def run_demo(
    *, examples: str, nodes: str | None, pools: str | None, timeout: float, show_objects: bool, out: TextIO
) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    root = Path(examples)
    return asyncio.run(
        _demo(
            root,
            Path(nodes) if nodes else root / "inventory" / "nodes.yaml",
            Path(pools) if pools else root / "inventory" / "pools.yaml",
            timeout,
            show_objects,
            out,
        )
    )
