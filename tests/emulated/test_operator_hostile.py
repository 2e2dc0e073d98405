"""Issue 17 on the emulated cluster: a ModelDeployment whose child name another one holds reports the
conflict and never advertises the other model's Service; an object the API server still rejects (422) sets
a condition with the server's message instead of a silent retry; a spec the policy forbids is SpecValid=False.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from genai_operator.settings import Settings
from support.operator_harness import DEPLOYMENTS, OperatorHarness, condition, eventually, example, is_ready

pytestmark = pytest.mark.integration

SERVICES = "v1/services"


def llama(name: str, **spec: Any) -> dict[str, Any]:
    manifest = example("llama-8b-bf16-l4.yaml")
    manifest["metadata"]["name"] = name
    manifest["spec"] = {**manifest["spec"], "replicas": 1, **spec}
    return manifest


async def test_a_taken_service_name_is_reported_never_served() -> None:
    async with OperatorHarness(options={"resync_seconds": 1.0}) as harness:
        await harness.create(llama("md-8b-chat"))
        await eventually(lambda: is_ready(harness.md("ml", "md-8b-chat")))
        await harness.create(llama("8b-chat"))  # wants Service md-8b-chat too (a name must start with a letter)
        degraded = await eventually(
            lambda: (
                (c := condition(harness.md("ml", "8b-chat"), "Degraded")) and c.get("reason") == "NameConflict" and c
            )
        )
        assert "Service md-8b-chat" in degraded["message"] and "ModelDeployment md-8b-chat" in degraded["message"]
        loser = harness.md("ml", "8b-chat")
        assert "endpoint" not in loser["status"]  # it pointed at the other model's Service
        assert condition(loser, "Ready")["status"] == "False"
        assert condition(loser, "Ready")["reason"] == "NameConflict"
        service = harness.cluster.get(SERVICES, "ml", "md-8b-chat")
        assert service is not None
        assert service["spec"]["selector"]["genaiops.dev/model-deployment"] == "md-8b-chat"
        assert harness.md("ml", "md-8b-chat")["status"]["endpoint"] == "http://md-8b-chat.ml.svc:8000/v1"


async def test_an_object_the_api_server_rejects_sets_a_condition(monkeypatch: pytest.MonkeyPatch) -> None:
    # Stand for a rule our render checks miss: they are switched off, so the emulator's 422 is what answers.
    monkeypatch.setattr("genai_operator.render.bundle.check_objects", lambda objects: None)
    monkeypatch.setattr("genai_operator.engines.fetch._check_host_mount", lambda path: None)
    settings = Settings(host_path_prefixes=("/",))
    async with OperatorHarness(options={"resync_seconds": 1.0, "settings": settings}) as harness:
        await harness.create(llama("tmp-model", model={"uri": "file:///tmp", "parameters": "8B"}))
        spec_valid = await eventually(
            lambda: (c := condition(harness.md("ml", "tmp-model"), "SpecValid")) and c.get("status") == "False" and c
        )
        assert spec_valid["reason"] == "RejectedByApiServer"
        assert "Deployment tmp-model-cloud-l4" in spec_valid["message"]
        assert 'mountPath: Invalid value: "/tmp": must be unique' in spec_valid["message"]
        assert condition(harness.md("ml", "tmp-model"), "Degraded")["reason"] == "RejectedByApiServer"
        assert harness.cluster.get(DEPLOYMENTS, "ml", "tmp-model-cloud-l4") is None
        harness.clear_requests()
        await asyncio.sleep(2.5)  # no retry storm: one attempt per resync, and no status write
        attempts = [r for r in harness.cluster.emulator.recorded_requests() if r.resource == "deployments"]
        assert len(attempts) <= 4, attempts
        assert not [r for r in harness.writes() if r.resource == "modeldeployments"]


async def test_a_node_path_outside_the_policy_is_spec_invalid() -> None:
    async with OperatorHarness() as harness:
        await harness.create(llama("pki", model={"uri": "file:///etc/kubernetes/pki", "parameters": "8B"}))
        spec_valid = await eventually(
            lambda: (c := condition(harness.md("ml", "pki"), "SpecValid")) and c.get("status") == "False" and c
        )
        assert "spec.model.uri" in spec_valid["message"]
        assert "GENAI_OPERATOR_HOST_PATH_PREFIXES" in spec_valid["message"]
        await asyncio.sleep(0.5)
        assert harness.cluster.get(DEPLOYMENTS, "ml", "pki-cloud-l4") is None
