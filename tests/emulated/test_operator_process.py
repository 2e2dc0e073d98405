"""`genai-operator run` as a real process (console script, kubeconfig flag, Kopf login, metrics port, SIGTERM)
against the emulated cluster over HTTP, standalone and with the leader lease (taken, then released on
SIGTERM); and `/scale` driving the replica split."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from genai_emulator import EmulatedCluster
from genai_operator.api.crdgen import all_crds
from genai_operator.api.loading import read_documents
from genai_sandbox.process import free_port
from support.operator_harness import DEPLOYMENTS, OperatorHarness, eventually, example, is_ready
from support.paths import ROOT

pytestmark = pytest.mark.integration
MD = "genaiops.dev/v1alpha1/modeldeployments"
LEASE = "coordination.k8s.io/v1/leases"


@contextlib.asynccontextmanager
async def operator_process(
    cluster: EmulatedCluster, tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> AsyncIterator[int]:
    """`genai-operator run` on the cluster with `args`; yields its metrics port. On the way out: SIGTERM, which
    must end it with exit code 0 and no traceback."""
    port = free_port()
    log = (tmp_path / "operator.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "genai_operator",
            "run",
            "--kubeconfig",
            str(cluster.kubeconfig_path),
            "--all-namespaces",
            "--metrics-port",
            str(port),
            *args,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    try:
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(proc.wait, 20)
        log.close()
    output = (tmp_path / "operator.log").read_text()
    assert code == 0, output
    assert "Traceback" not in output, output


def http_get(port: int, path: str) -> tuple[int, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return int(response.status), str(response.read().decode())


def gpu_cluster(cluster: EmulatedCluster) -> None:
    cluster.install_crds(list(all_crds().values()))
    cluster.add_nodes([d for _, d in read_documents(str(ROOT / "examples/inventory/nodes.yaml"))])


async def test_run_command_serves_a_model_deployment_and_stops_on_sigterm(tmp_path: Path) -> None:
    async with EmulatedCluster() as cluster:
        gpu_cluster(cluster)
        async with operator_process(cluster, tmp_path, "--standalone") as port:
            cluster.apply(example("llama-8b-bf16-l4.yaml"))
            await eventually(lambda: is_ready(cluster.get(MD, "ml", "llama-8b") or {"metadata": {}}), timeout=30)
            pools = {p["pool"] for p in cluster.get(MD, "ml", "llama-8b")["status"]["placement"]}
            assert pools == {"cloud-nvidia-l4"}  # no PlacementPools: discovered from GPU Feature Discovery labels
            assert (await asyncio.to_thread(http_get, port, "/healthz"))[0] == 200


async def test_run_without_standalone_holds_the_leader_lease_and_releases_it_on_sigterm(tmp_path: Path) -> None:
    async with EmulatedCluster() as cluster:
        gpu_cluster(cluster)
        lease_env = {"GENAI_OPERATOR_LEASE_NAMESPACE": "ops", "GENAI_OPERATOR_LEASE_NAME": "genai"}
        async with operator_process(cluster, tmp_path, env=lease_env) as port:
            lease = await eventually(lambda: cluster.get(LEASE, "ops", "genai"), timeout=30)
            assert lease["spec"]["holderIdentity"].startswith(f"{socket.gethostname()}_")
            assert lease["spec"]["leaseDurationSeconds"] == 15
            cluster.apply(example("llama-8b-bf16-l4.yaml"))
            await eventually(lambda: is_ready(cluster.get(MD, "ml", "llama-8b") or {"metadata": {}}), timeout=30)
            assert "genai_operator_leader 1.0" in (await asyncio.to_thread(http_get, port, "/metrics"))[1]
        released = cluster.get(LEASE, "ops", "genai")
        assert released is not None and "holderIdentity" not in released["spec"]


async def test_without_the_crds_it_says_so_then_serves_them_once_installed(tmp_path: Path) -> None:
    async with EmulatedCluster(emulator_options={"genai_served": False}) as cluster:
        cluster.add_nodes([d for _, d in read_documents(str(ROOT / "examples/inventory/nodes.yaml"))])
        async with operator_process(cluster, tmp_path, "--standalone"):
            log = tmp_path / "operator.log"
            await eventually(lambda: "the genaiops.dev/v1alpha1 API is not served" in log.read_text(), timeout=30)
            assert "kubectl apply -f crds/" in log.read_text()
            # Kopf notices a CRD from its watch of CRDs, which opens after the warning: a CRD created in between
            # is only in that watch's initial list, which Kopf skips (its initial scan came before).
            await eventually(
                lambda: cluster.emulator.recorded_requests(verb="watch", resource="customresourcedefinitions")
            )
            cluster.install_crds(list(all_crds().values()))  # what `helm install` or the fix does
            cluster.apply(example("llama-8b-bf16-l4.yaml"))
            await eventually(lambda: is_ready(cluster.get(MD, "ml", "llama-8b") or {"metadata": {}}), timeout=30)


async def test_scale_subresource_sets_replicas_that_are_split_across_pools() -> None:
    async with OperatorHarness() as harness:
        manifest = example("llama-3b-autoscaled-hybrid.yaml")
        manifest["spec"]["replicas"] = 1
        await harness.create(manifest)
        await eventually(lambda: is_ready(harness.md("ml", "assistant")))
        standby = harness.cluster.get(DEPLOYMENTS, "ml", "assistant-cloud-l4")
        assert standby is not None and standby["spec"]["replicas"] == 0  # spillover pool on standby
        assert harness.client is not None
        from genai_operator.api.resources import MODEL_DEPLOYMENTS

        # What `kubectl scale mdep assistant --replicas=4` and an HPA do.
        scale = await harness.client.get(MODEL_DEPLOYMENTS, "ml", "assistant", "scale")
        assert scale is not None and scale["kind"] == "Scale"
        await harness.client.patch(MODEL_DEPLOYMENTS, "ml", "assistant", {"spec": {"replicas": 4}}, "scale")
        md = await eventually(
            lambda: (o := harness.md("ml", "assistant")) and o["status"]["replicas"] == 4 and is_ready(o) and o
        )
        assert {p["pool"]: p["replicas"] for p in md["status"]["placement"]} == {"edge-orin": 2, "cloud-l4": 2}
        scale = await harness.client.get(MODEL_DEPLOYMENTS, "ml", "assistant", "scale")
        assert scale["status"]["replicas"] == 4
        assert scale["status"]["selector"] == "genaiops.dev/model-deployment=assistant"
        events = harness.cluster.list("v1/events", "ml")
        assert any(e.get("reason") == "Scaled" and "1 to 4" in e.get("message", "") for e in events)
