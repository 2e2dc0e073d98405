"""The model loader's parallel transfer (loader/genai_model_loader/transfer.py, ranged.py, download.py) against the
local fake Hub, S3 and registry: files side by side and large files in ranged parts give the right bytes over at most
the configured connections; a run interrupted mid-file resumes each part where its journal says (and a journal left
by other content is not trusted); a server that ignores Range (200) falls back to one stream; wrong bytes in one part
are a ChecksumMismatch with nothing left behind; the connection limit (LOADER_CONNECTIONS, the plan's `connections`)
is validated (exit 2); ranged requests keep the redirect rules (the Hub token and the registry token never reach the
CDN, SigV4 signs the Range header); progress is one aggregate line per interval, one per file done, none per part.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from genai_model_loader.part_state import state_paths
from genai_model_loader.progress import ItemProgress
from support.loader_http import FakeRemote, files_under, model_files, run_loader

PART = 64 * 1024
SHARDS = {f"model-0000{i}-of-00003.safetensors": os.urandom(5 * PART + 1234 * i) for i in (1, 2, 3)}
FILES = {"config.json": b'{"model_type": "llama"}', **SHARDS}
BIG = "model-00002-of-00003.safetensors"


@pytest.fixture
def hub() -> Iterator[FakeRemote]:
    with FakeRemote() as fake:
        fake.add_repo("org/llm", FILES)
        yield fake


def plan(dest: Path, uri: str = "hf://org/llm", **extra: Any) -> list[dict[str, Any]]:
    return [{"name": "model", "uri": uri, "dest": str(dest), **extra}]


def env(fake: FakeRemote, connections: str = "4", **extra: str) -> dict[str, str]:
    return {"HF_ENDPOINT": fake.url, "LOADER_CONNECTIONS": connections, "LOADER_PART_BYTES": str(PART), **extra}


def ranges(fake: FakeRemote, path: str) -> list[tuple[int, int]]:
    found = [
        re.fullmatch(r"bytes=(\d+)-(\d+)", r.headers.get("range", ""))
        for r in fake.seen("/cdn/org/llm/")
        if r.path.endswith(path)
    ]
    return sorted((int(m.group(1)), int(m.group(2))) for m in found if m)


def test_files_side_by_side_and_in_ranged_parts_arrive_whole(hub: FakeRemote, tmp_path: Path) -> None:
    hub.body_delay = 0.05  # long enough for the streams to overlap
    dest = tmp_path / "llm"
    outcome = run_loader(plan(dest), tmp_path, env(hub))
    assert outcome.code == 0, outcome.stderr
    assert {p: files_under(dest)[p] for p in model_files(dest)} == FILES
    for path, content in SHARDS.items():  # parts of at most PART bytes covering the file once
        spans = ranges(hub, path)
        assert spans[0][0] == 0 and spans[-1][1] == len(content) - 1 and len(spans) == -(-len(content) // PART)
        assert all(b[0] == a[1] + 1 and a[1] - a[0] < PART for a, b in itertools.pairwise(spans))
    assert 1 < hub.max_streaming <= 4
    manifest = json.loads((dest / ".genai-manifest.json").read_text())
    assert {f["path"]: f["sha256"] for f in manifest["files"]} == {
        p: hashlib.sha256(c).hexdigest() for p, c in FILES.items()
    }
    assert not [p for p in files_under(dest) if ".genai-parts-" in p or p.endswith(".part")]
    assert "over up to 4 connections" in outcome.stderr


def test_the_plan_connections_win_over_the_environment(hub: FakeRemote, tmp_path: Path) -> None:
    hub.body_delay = 0.05
    outcome = run_loader(plan(tmp_path / "llm", connections=2), tmp_path, env(hub, "16"))
    assert outcome.code == 0, outcome.stderr
    assert hub.max_streaming <= 2 and "over up to 2 connections" in outcome.stderr


def test_one_connection_fetches_one_stream_per_file(hub: FakeRemote, tmp_path: Path) -> None:
    outcome = run_loader(plan(tmp_path / "llm"), tmp_path, env(hub, "1"))
    assert outcome.code == 0, outcome.stderr
    assert hub.max_streaming == 1 and all("range" not in r.headers for r in hub.seen("/cdn/"))


def test_an_interrupted_run_resumes_each_part_where_its_journal_says(hub: FakeRemote, tmp_path: Path) -> None:
    dest = tmp_path / "llm"
    # The fourth part asked for fails for good: the run stops, the parts written so far stay.
    hub.respond(f"/cdn/org/llm/{hub.shas[('org/llm', 'main')]}/{BIG}", 404, skip=3)
    hub.body_delay = 0.02
    first = run_loader(plan(dest), tmp_path, env(hub, "2"))
    assert first.code == 1 and first.termination.startswith("NotFound:"), first.termination
    data, journal = state_paths(dest / BIG)
    state = json.loads(journal.read_text())
    assert data.stat().st_size == len(SHARDS[BIG]) and len(state["done"]) == 6 and state["partBytes"] == PART
    assert sum(state["done"]) >= 2 * PART
    assert not (dest / BIG).exists() and not (dest / ".genai-complete").exists()
    done = state["done"]
    hub.clear()
    second = run_loader(plan(dest), tmp_path, env(hub, "2"))
    assert second.code == 0, second.stderr
    assert (dest / BIG).read_bytes() == SHARDS[BIG]
    asked = ranges(hub, BIG)
    # Exactly what the journal did not hold: each unfinished part from its own offset, finished ones not at all.
    expected = [
        (i * PART + d, min((i + 1) * PART, len(SHARDS[BIG])) - 1)
        for i, d in enumerate(done)
        if i * PART + d < min((i + 1) * PART, len(SHARDS[BIG]))
    ]
    assert asked == expected
    assert not data.exists() and not journal.exists()


def test_a_journal_of_other_content_is_not_resumed(hub: FakeRemote, tmp_path: Path) -> None:
    dest = tmp_path / "llm"
    dest.mkdir()
    (dest / ".genai-filling.json").write_text(json.dumps({"uri": "hf://org/llm", "file": None, "ggufType": None}))
    data, journal = state_paths(dest / BIG)
    data.write_bytes(b"\0" * len(SHARDS[BIG]))  # full length, every part "done", but for another sha256
    identity = {"size": len(SHARDS[BIG]), "sha256": "0" * 64, "md5": None, "gitSha1": None}
    journal.write_text(
        json.dumps({"file": identity, "partBytes": PART, "done": [PART] * 5 + [len(SHARDS[BIG]) % PART]})
    )
    outcome = run_loader(plan(dest), tmp_path, env(hub))
    assert outcome.code == 0, outcome.stderr
    assert (dest / BIG).read_bytes() == SHARDS[BIG] and ranges(hub, BIG)[0] == (0, PART - 1)


def test_a_server_ignoring_range_is_read_as_one_stream(hub: FakeRemote, tmp_path: Path) -> None:
    hub.ignore_range = True
    dest = tmp_path / "llm"
    outcome = run_loader(plan(dest), tmp_path, env(hub))
    assert outcome.code == 0, outcome.stderr
    assert {p: files_under(dest)[p] for p in model_files(dest)} == FILES
    assert "the server ignores Range; fetching it over one connection" in outcome.stderr
    for path in SHARDS:  # asked in parts, answered with 200, then once without Range
        assert [r for r in hub.seen("/cdn/") if r.path.endswith(path) and "range" not in r.headers]
    assert not [p for p in files_under(dest) if ".genai-parts-" in p]


def test_wrong_bytes_in_one_part_fail_the_checksum_and_leave_nothing(hub: FakeRemote, tmp_path: Path) -> None:
    hub.corrupt_spans[BIG] = (2 * PART + 10, 2 * PART + 20)  # ten bytes in the third part
    dest = tmp_path / "llm"
    outcome = run_loader(plan(dest), tmp_path, env(hub))
    assert outcome.code == 1
    assert outcome.termination.startswith(f"ChecksumMismatch: model hf://org/llm: {BIG} has sha256 "), (
        outcome.termination
    )
    assert hashlib.sha256(SHARDS[BIG]).hexdigest() in outcome.termination
    assert not (dest / BIG).exists() and not any(p.exists() for p in state_paths(dest / BIG))
    assert not (dest / ".genai-complete").exists()


def test_s3_md5_is_checked_on_ranged_parts_and_the_range_is_signed(tmp_path: Path) -> None:
    with FakeRemote() as s3:
        s3.add_bucket("models", {"llm/model.safetensors": SHARDS[BIG], "llm/config.json": FILES["config.json"]})
        s3.s3_keys = {"AKIDEXAMPLE": "secret"}
        s3.corrupt_spans["llm/model.safetensors"] = (PART, PART + 1)
        keys = {"AWS_ENDPOINT_URL": s3.url, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}
        outcome = run_loader(plan(tmp_path / "m", "s3://models/llm"), tmp_path, env(s3) | keys)
        assert outcome.code == 1
        assert outcome.termination.startswith("ChecksumMismatch: model s3://models/llm: model.safetensors has MD5")
        s3.corrupt_spans.clear()
        outcome = run_loader(plan(tmp_path / "m", "s3://models/llm"), tmp_path, env(s3) | keys)
        assert outcome.code == 0, outcome.stderr  # every ranged GET passed the fake's own SigV4 check
        ranged = [r for r in s3.seen("/models/llm/model.safetensors") if "range" in r.headers]
        assert len(ranged) >= 6 and all("range" in r.headers["authorization"] for r in ranged)


@pytest.mark.parametrize("value", ["0", "-3", "abc", "65"])
def test_a_bad_loader_connections_is_an_invalid_plan(tmp_path: Path, value: str) -> None:
    outcome = run_loader(plan(tmp_path / "m"), tmp_path, {"LOADER_CONNECTIONS": value})
    assert outcome.code == 2
    assert outcome.termination.startswith("InvalidPlan: LOADER_CONNECTIONS must be "), outcome.termination


@pytest.mark.parametrize("value", [0, -1, True, "8", 1.5, 65])
def test_a_bad_plan_connections_is_an_invalid_plan(tmp_path: Path, value: object) -> None:
    outcome = run_loader(plan(tmp_path / "m", connections=value), tmp_path, {})
    assert outcome.code == 2
    assert outcome.termination.startswith("InvalidPlan: --plan item 0 (model): connections must be "), (
        outcome.termination
    )


def test_ranged_requests_carry_the_hub_token_to_the_hub_only(hub: FakeRemote, tmp_path: Path) -> None:
    token = "hf_secret_token"
    outcome = run_loader(plan(tmp_path / "llm"), tmp_path, env(hub, HF_TOKEN=token))
    assert outcome.code == 0, outcome.stderr
    resolved = [r for r in hub.seen("/resolve/") if r.path.endswith(".safetensors")]
    cdn = hub.seen("/cdn/")
    assert len(resolved) == len(cdn) >= 18  # every part asked the Hub, was redirected, and followed
    assert all(r.headers.get("authorization") == f"Bearer {token}" and "range" in r.headers for r in resolved)
    assert all("authorization" not in r.headers and "range" in r.headers for r in cdn)
    assert token not in outcome.stderr


def test_ranged_blob_requests_carry_the_registry_token_to_the_registry_only(tmp_path: Path) -> None:
    with FakeRemote() as registry:
        registry.registry_auth, registry.public_repos, registry.blob_redirect = "bearer", {"org/llm"}, True
        layers = [
            {
                "mediaType": "application/octet-stream",
                "digest": registry.add_blob(content),
                "size": len(content),
                "annotations": {"org.opencontainers.image.title": path},
            }
            for path, content in FILES.items()
        ]
        config = registry.add_blob(b"{}")
        registry.add_manifest(
            "org/llm",
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
                "layers": layers,
            },
            "v1",
        )
        host = registry.url.removeprefix("http://")
        outcome = run_loader(
            plan(tmp_path / "m", f"oci://{host}/org/llm:v1"),
            tmp_path,
            env(registry) | {"OCI_PLAIN_HTTP_REGISTRIES": host},
        )
        assert outcome.code == 0, outcome.stderr
        assert {p: files_under(tmp_path / "m")[p] for p in model_files(tmp_path / "m")} == FILES
        blobs, storage = registry.seen("/v2/org/llm/blobs/"), registry.seen("/registry-cdn/")
        assert sum("range" in r.headers for r in storage) >= 18
        assert all(r.headers.get("authorization", "").startswith("Bearer ") for r in blobs if "range" in r.headers)
        assert all("authorization" not in r.headers for r in storage)


def test_progress_is_one_line_per_interval_for_all_files_and_parts(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    progress = ItemProgress("model", 960, clock=lambda: now[0])
    files = [progress.file(f"shard-{i}.safetensors") for i in range(4)]
    logger = "genai_model_loader.progress"
    with caplog.at_level("INFO", logger=logger):
        for step in range(10):
            now[0] = step * 1.0
            threads = [threading.Thread(target=f.advance, args=(6,)) for f in files for _ in range(4)]  # parts
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        files[1].finish()
    lines = [r.getMessage() for r in caplog.records if r.name == logger]
    assert progress.done == 960
    # Forty-odd advances from sixteen threads over 9 s: one line at t=5 s, naming the oldest file and the others.
    assert len(lines) == 2, lines
    assert re.fullmatch(r"model: \d{3}/960 B \(\d+%\) shard-0\.safetensors \(\+3 more\) \d+ B/s eta \d+s", lines[0]), (
        lines[0]
    )
    assert lines[1].startswith("model: 960/960 B (100%) shard-1.safetensors") and lines[1].endswith(" done")


def test_the_loader_logs_one_done_line_per_file_not_per_part(hub: FakeRemote, tmp_path: Path) -> None:
    outcome = run_loader(plan(tmp_path / "llm"), tmp_path, env(hub))
    assert outcome.code == 0, outcome.stderr
    done = [line for line in outcome.stderr.splitlines() if line.endswith(" done")]
    assert len(done) == len(FILES) and not [line for line in outcome.stderr.splitlines() if "part " in line]
