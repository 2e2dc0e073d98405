"""Cold-start accounting on the emulated cluster (issue 20): with a kubelet that takes a few seconds to start
pods, a copied model (the loader's download, then the load) and a streamed one (no loader: everything is load)
report status.coldStart with non-zero figures that add up, the genai_operator_cold_start_seconds series on
/metrics agree with status, and the streamed model's pods run no loader and say so in status."""

from __future__ import annotations

import asyncio
import urllib.request
from typing import Any

import pytest

from genai_sandbox.process import free_port
from support.operator_harness import OperatorHarness, condition, eventually, example, is_ready, quiet

pytestmark = pytest.mark.integration

READY_DELAY = 4.0  # seconds the emulated kubelet takes to start a pod, split between download and load


def cold_started(harness: OperatorHarness, name: str) -> dict[str, Any] | None:
    md = harness.md("ml", name)
    return md if is_ready(md) and (md.get("status") or {}).get("coldStart") else None


def series(text: str, name: str, phase: str) -> float:
    prefix = f'genai_operator_cold_start_seconds{{name="{name}",namespace="ml",phase="{phase}"}} '
    line = next(line for line in text.splitlines() if line.startswith(prefix))
    return float(line.removeprefix(prefix))


async def test_cold_start_in_status_and_metrics_for_copied_and_streamed_weights() -> None:
    port = free_port()
    options = {"metrics_port": port, "metrics_host": "127.0.0.1"}
    async with OperatorHarness(options=options, ready_delay=READY_DELAY) as harness:
        await harness.create(example("llama-8b-bf16-l4.yaml"))
        await harness.create(example("llama-8b-stream-s3.yaml"))
        copied = await eventually(lambda: cold_started(harness, "llama-8b"), timeout=30)
        streamed = await eventually(lambda: cold_started(harness, "llama-8b-stream"), timeout=30)

        copy_start = copied["status"]["coldStart"]
        assert copy_start["pod"].startswith("llama-8b-")
        assert copy_start["downloadSeconds"] >= 1 and copy_start["loadSeconds"] >= 1
        assert copy_start["downloadSeconds"] + copy_start["loadSeconds"] <= copy_start["totalSeconds"]
        assert copy_start["totalSeconds"] >= READY_DELAY - 1

        stream_start = streamed["status"]["coldStart"]
        assert stream_start["downloadSeconds"] == 0  # streamed: the download is part of the load
        assert stream_start["loadSeconds"] >= READY_DELAY - 1
        assert {p["cache"].split()[0] for p in streamed["status"]["placement"]} == {"Streamed"}
        assert condition(streamed, "ModelLoaded")["reason"] == "Streamed"
        pods = [p for p in harness.cluster.list("v1/pods", "ml") if p["metadata"]["name"].startswith("llama-8b-stream")]
        assert pods and all(not p["spec"].get("initContainers") for p in pods)

        def fetch() -> str:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
                return str(response.read().decode())

        # The newest ready pod decides; once every replica is ready the figures settle, in status and metric.
        await quiet(harness, 1.0)
        text = await asyncio.to_thread(fetch)
        for name in ("llama-8b", "llama-8b-stream"):
            figures = harness.md("ml", name)["status"]["coldStart"]
            assert series(text, name, "download") == figures["downloadSeconds"]
            assert series(text, name, "load") == figures["loadSeconds"]
            assert series(text, name, "total") == figures["totalSeconds"]
        assert series(text, "llama-8b", "download") > 0 and series(text, "llama-8b-stream", "load") > 0
