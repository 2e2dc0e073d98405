"""Multi-node replicas on the emulated cluster: with the LeaderWorkerSet CRD installed the real operator creates
one LeaderWorkerSet (a group of two 8x H100 nodes per replica) for the 405B BF16 example, a leaders-only
Service, and reports the group in status.sizing; Ready waits for the LWS controller (which the emulator does
not run) and follows the LWS's readyReplicas once something reports them. Without the CRD, Placed=False with
reason LeaderWorkerSetCrdMissing names what to install, nothing is rendered, and no retry loop follows.
"""

from __future__ import annotations

import pytest

from genai_operator.api.resources import LEADER_WORKER_SETS
from support.operator_harness import OperatorHarness, condition, eventually, example, quiet
from support.paths import UPSTREAM_CRDS

pytestmark = pytest.mark.integration
LWS = "leaderworkerset.x-k8s.io/v1/leaderworkersets"
SERVICES = "v1/services"
DEPLOYMENTS = "apps/v1/deployments"
LWS_CRD = UPSTREAM_CRDS / "leaderworkerset.x-k8s.io_leaderworkersets.yaml"


async def test_the_405b_example_is_a_two_node_group() -> None:
    async with OperatorHarness() as harness:
        harness.cluster.install_crds([LWS_CRD])
        await harness.stop()
        await harness.start()  # discovery runs at start: the CRD is found
        await harness.create(example("llama-405b-bf16-multinode.yaml"))
        lws = await eventually(lambda: harness.cluster.get(LWS, "ml", "llama-405b-cloud-h100"), timeout=30)
        template = lws["spec"]["leaderWorkerTemplate"]
        assert (lws["spec"]["replicas"], template["size"]) == (1, 2)
        assert template["restartPolicy"] == "RecreateGroupOnPodRestart"
        assert "--headless" in template["workerTemplate"]["spec"]["containers"][0]["args"]
        assert harness.cluster.get(DEPLOYMENTS, "ml", "llama-405b-cloud-h100") is None
        service = harness.cluster.get(SERVICES, "ml", "llama-405b")
        assert service["spec"]["selector"]["leaderworkerset.sigs.k8s.io/worker-index"] == "0"
        md = await eventually(lambda: (o := harness.md("ml", "llama-405b")) and o.get("status", {}).get("sizing") and o)
        sizing = md["status"]["sizing"]
        assert (sizing["nodesPerReplica"], sizing["pipelineParallel"], sizing["gpusPerReplica"]) == (2, 2, 16)
        assert (sizing["tensorParallel"], sizing["gpusPerNode"]) == (8, 8)
        assert condition(md, "Placed")["status"] == "True"
        # No LWS controller runs here: nothing reports a ready group, and status does not pretend.
        assert condition(md, "Ready")["status"] == "False" and md["status"]["readyReplicas"] == 0

        # What the LWS controller reports once the group runs: Ready follows it.
        assert harness.client is not None
        generation = lws["metadata"]["generation"]
        ready = {"observedGeneration": generation, "replicas": 1, "readyReplicas": 1, "updatedReplicas": 1}
        await harness.client.patch(LEADER_WORKER_SETS, "ml", "llama-405b-cloud-h100", {"status": ready}, "status")
        md = await eventually(
            lambda: (o := harness.md("ml", "llama-405b")) and condition(o, "Ready")["status"] == "True" and o
        )
        assert md["status"]["readyReplicas"] == 1


async def test_without_the_lws_crd_placed_says_what_to_install() -> None:
    async with OperatorHarness() as harness:
        await harness.create(example("llama-405b-bf16-multinode.yaml"))
        md = await eventually(
            lambda: (o := harness.md("ml", "llama-405b")) and o.get("status", {}).get("conditions") and o
        )
        placed = condition(md, "Placed")
        assert (placed["status"], placed["reason"]) == ("False", "LeaderWorkerSetCrdMissing"), placed
        assert "kubernetes-sigs/lws/releases" in placed["message"]
        assert md["status"]["sizing"]["nodesPerReplica"] == 2
        assert harness.cluster.get(SERVICES, "ml", "llama-405b") is None
        assert harness.cluster.get(DEPLOYMENTS, "ml", "llama-405b-cloud-h100") is None
        writes = await quiet(harness, 1.5)
        assert not writes, writes  # no retry loop: the status is written once
