"""The floor: a plain script that does the operator's writes and nothing else, through the same client.

It reads the ModelDeployments, nodes and PlacementPools once (three list calls), plans and renders each
ModelDeployment's children with the operator's own pure code, creates them, and writes one status
per object: children + 1 writes, no watches, no indexes, no re-reads. Work runs in `--workers` tasks on
one event loop (the operator's reconcile worker count), one ModelDeployment per task at a time.

Run as a subprocess by bench/run.py: it prints `ready` once imported, starts on a `go` line on stdin,
and prints `done <seconds>` when its last write returned.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from typing import Any

from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.placementpool import PlacementPool
from genai_operator.api.resources import MODEL_DEPLOYMENTS, NODES, PLACEMENT_POOLS, resource_of
from genai_operator.kube.client import KubeClient
from genai_operator.kube.session import load_configuration
from genai_operator.placement.assemble import build_pools
from genai_operator.placement.inventory import node_view
from genai_operator.placement.types import Pool
from genai_operator.planning.plan import plan_model_deployment
from genai_operator.render.bundle import render_children


async def deploy_one(client: KubeClient, body: dict[str, Any], pools: list[Pool] | None) -> int:
    """Create the children of one ModelDeployment and write its status; returns the writes made."""
    md = ModelDeployment.model_validate(body)
    decision = plan_model_deployment(md, pools)
    children = render_children(md, decision, owner_uid=body["metadata"]["uid"])
    for child in children:
        await client.create(resource_of(child), child)
    meta = body["metadata"]
    status = {
        "observedGeneration": meta.get("generation"),
        "replicas": decision.replicas,
        "placement": [{"pool": a.pool.name, "replicas": a.replicas} for a in decision.assignments],
    }
    await client.patch(MODEL_DEPLOYMENTS, meta["namespace"], meta["name"], {"status": status}, "status")
    return len(children) + 1


async def run(kubeconfig: str, workers: int) -> float:
    client = KubeClient(load_configuration(kubeconfig))
    try:
        started = time.perf_counter()
        bodies = await client.list(MODEL_DEPLOYMENTS)
        nodes = [node_view(n) for n in await client.list(NODES)]
        manifests = [PlacementPool.model_validate(p) for p in await client.list(PLACEMENT_POOLS)]
        pools = build_pools(manifests, nodes or None, {})
        todo = iter(bodies)

        async def worker() -> None:
            for body in todo:  # shared: each task takes the next ModelDeployment when it is free
                await deploy_one(client, body, pools)

        await asyncio.gather(*(worker() for _ in range(workers)))
        return time.perf_counter() - started
    finally:
        await client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", required=True, help="kubeconfig of the emulated cluster")
    parser.add_argument("--workers", type=int, default=4, help="tasks creating children concurrently")
    args = parser.parse_args(argv)
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 1
    seconds = asyncio.run(run(args.kubeconfig, args.workers))
    print(f"done {seconds:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
