"""Streamed weights (spec.model.loadFormat Stream) and download connections, rendered: golden files in
tests/golden/streaming/ (UPDATE_GOLDEN=1 regenerates them), strict schema validation of every object, and the
properties behind them: vLLM gets --load-format runai_streamer with the bucket URI and the credentials Secret by
reference; no loader, cache volume, claim or StatefulSet for streamed weights (adapters keep a loader of their
own); sizing counts no disk for them and moves the cold download into the startup budget; connections reach
the loader's plan (the spec over the pool) or the streamer's concurrency; other engines refuse Stream."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from genai_operator.engines.source import UnsupportedModelSourceError
from genai_operator.formats.quantity import parse_quantity
from support.golden import check_golden
from support.paths import GOLDEN
from support.render_fixtures import by_kind, render_on_pool

GOLDEN_DIR = GOLDEN / "streaming"
S3_MODEL = {"uri": "s3://models/llama-3.1-8b-instruct", "parameters": "8B", "credentialsSecret": "aws-models"}
GPU_POOL: dict[str, Any] = {
    "tier": "Cloud",
    "nodeSelector": {"nvidia.com/gpu.product": "NVIDIA-L4"},
    "gpu": {"type": "nvidia-l4"},
}
NODE_LOCAL = {"mode": "NodeLocal", "storageClassName": "local-storage", "size": "100Gi"}

CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # name: (ModelDeployment spec, PlacementPool spec)
    "s3-stream-nodelocal-pool": (
        {"model": {**S3_MODEL, "loadFormat": "Stream"}, "engine": "VLLM", "replicas": 2},
        {**GPU_POOL, "cache": NODE_LOCAL, "download": {"connections": 12}},
    ),
    "gs-stream-adapters": (
        {
            "model": {
                "uri": "gs://models/llama-3.1-8b-instruct",
                "parameters": "8B",
                "credentialsSecret": "gcs-hmac",
                "loadFormat": "Stream",
                "download": {"connections": 32},
            },
            "engine": "Auto",
            "adapters": [{"name": "sql", "uri": "hf://acme/llama-sql-lora@v2"}],
        },
        {**GPU_POOL, "cache": {"mode": "Shared"}},
    ),
    "s3-copy-connections": (
        {"model": {**S3_MODEL, "download": {"connections": 24}}, "engine": "VLLM"},
        {**GPU_POOL, "download": {"connections": 4}},
    ),
}


def pod_of(objects: list[dict[str, Any]]) -> dict[str, Any]:
    workload = next(o for o in objects if o["kind"] in ("Deployment", "StatefulSet"))
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def plan_items(pod: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(pod["initContainers"][0]["args"][1])
    return items


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendered_case_matches_golden(case: str) -> None:
    rendered = yaml.safe_dump_all(render_on_pool(*CASES[case]), sort_keys=False)
    check_golden(GOLDEN_DIR / f"{case}.yaml", rendered)


def test_no_stale_golden_files() -> None:
    assert {p.stem for p in GOLDEN_DIR.glob("*.yaml")} == set(CASES)


def test_streamed_weights_go_to_vllm_with_the_secret_by_reference_and_nothing_on_disk() -> None:
    objects = render_on_pool(*CASES["s3-stream-nodelocal-pool"])
    # The pool keeps a per-replica cache for other models; a streamed one needs none: a Deployment, no claim.
    assert by_kind(objects, "Deployment") and not by_kind(objects, "StatefulSet")
    assert not by_kind(objects, "PersistentVolumeClaim")
    pod = pod_of(objects)
    assert "initContainers" not in pod
    assert all(v["name"] != "model-cache" for v in pod["volumes"])
    engine = pod["containers"][0]
    assert engine["args"][0] == S3_MODEL["uri"]
    load = engine["args"].index("--load-format")
    assert engine["args"][load + 1] == "runai_streamer"
    assert engine["envFrom"] == [{"secretRef": {"name": "aws-models", "optional": False}}]
    env = env_of(engine)
    assert env["RUNAI_STREAMER_CONCURRENCY"] == "12"  # the pool's default connections
    assert int(env["RUNAI_STREAMER_MEMORY_LIMIT"]) > 0
    assert "AWS_ENDPOINT_URL" not in env  # the Secret's own endpoint (S3-compatible stores) must win
    assert all(m["name"] != "model-cache" for m in engine["volumeMounts"])
    assert parse_quantity(engine["resources"]["requests"]["ephemeral-storage"]) <= 2 * 2**30


def test_stream_moves_the_cold_download_from_the_loader_into_the_startup_budget() -> None:
    copy = pod_of(render_on_pool(*CASES["s3-copy-connections"]))["containers"][0]
    stream = pod_of(render_on_pool(*CASES["s3-stream-nodelocal-pool"]))["containers"][0]
    copy_budget = copy["startupProbe"]["failureThreshold"] * copy["startupProbe"]["periodSeconds"]
    stream_budget = stream["startupProbe"]["failureThreshold"] * stream["startupProbe"]["periodSeconds"]
    # 16 GB of BF16 weights at the conservative 25 MB/s egress: over ten minutes more to become healthy.
    assert stream_budget - copy_budget >= 600
    copy_disk = parse_quantity(copy["resources"]["requests"]["ephemeral-storage"])
    stream_disk = parse_quantity(stream["resources"]["requests"]["ephemeral-storage"])
    assert copy_disk - stream_disk >= 14 * 2**30  # the copy on the emptyDir is gone


def test_adapters_of_a_streamed_model_keep_a_loader_of_their_own_on_an_emptydir() -> None:
    objects = render_on_pool(*CASES["gs-stream-adapters"])
    assert not by_kind(objects, "PersistentVolumeClaim")  # the pool's Shared claim is not made for it
    pod = pod_of(objects)
    items = plan_items(pod)
    assert [i["name"] for i in items] == ["adapter:sql"] and items[0]["connections"] == 32
    cache = next(v for v in pod["volumes"] if v["name"] == "model-cache")
    assert "emptyDir" in cache
    engine = pod["containers"][0]
    env = env_of(engine)
    # gs:// with a Secret: GCS HMAC keys through the streamer's S3 backend, as the loader reads them.
    assert env["RUNAI_STREAMER_OVERRIDE_OBJ_PLUGIN"] == "s3"
    assert env["AWS_ENDPOINT_URL"] == "https://storage.googleapis.com"
    assert env["RUNAI_STREAMER_CONCURRENCY"] == "32"
    assert engine["envFrom"] == [{"secretRef": {"name": "gcs-hmac", "optional": False}}]
    assert engine["args"][0] == "gs://models/llama-3.1-8b-instruct" and "runai_streamer" in engine["args"]


def test_connections_reach_the_loader_plan_spec_over_pool() -> None:
    spec, pool = CASES["s3-copy-connections"]
    assert plan_items(pod_of(render_on_pool(spec, pool)))[0]["connections"] == 24
    unset = {**spec, "model": S3_MODEL}
    assert plan_items(pod_of(render_on_pool(unset, pool)))[0]["connections"] == 4
    bare_pool = {k: v for k, v in pool.items() if k != "download"}
    assert "connections" not in plan_items(pod_of(render_on_pool(unset, bare_pool)))[0]  # the loader's default


def test_stream_on_an_engine_that_cannot_stream_is_refused_naming_the_field() -> None:
    spec = {"model": {**S3_MODEL, "loadFormat": "Stream"}, "engine": "Auto"}
    pool = {**GPU_POOL, "engineDefaults": {"engine": "SGLang"}}
    with pytest.raises(UnsupportedModelSourceError, match=r"loadFormat Stream is served by vLLM.*SGLang"):
        render_on_pool(spec, pool)
