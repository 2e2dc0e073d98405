"""The model loader's downloads (loader/genai_model_loader/download.py and retry.py) against the local fake Hub:
resume with Range after a connection cut midway and from a .part an earlier run left, restart when the server
ignores Range, sha256 (LFS), git blob id (small files) and size verification (ChecksumMismatch / SizeMismatch in
the termination log, exit 1, bad file deleted), completed files of an interrupted run kept, retries on 5xx and 429
honouring Retry-After, NetworkError after five attempts, the token sent to the Hub but never to the CDN it
redirects to nor into the log, and the progress line format. Also the local stream-to-file that copies and
unpacking share (file_checks.copy_hashed): its digest and size, and a full disk as NoSpace with nothing left.
"""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from genai_model_loader.errors import LoaderError, Reason
from genai_model_loader.file_checks import copy_hashed
from genai_model_loader.progress import ItemProgress, format_bytes, format_duration
from support.loader_http import FakeRemote, files_under, model_files, run_loader

WEIGHTS = os.urandom(300_000)
FILES = {"config.json": b'{"model_type": "llama"}', "model.safetensors": WEIGHTS}


@pytest.fixture
def hub() -> Iterator[FakeRemote]:
    with FakeRemote() as fake:
        fake.add_repo("org/llm", FILES)
        yield fake


def plan(dest: Path, uri: str = "hf://org/llm") -> list[dict[str, str]]:
    return [{"name": "model", "uri": uri, "dest": str(dest), "mode": "fetch"}]


def test_a_connection_cut_midway_is_resumed_with_range(hub: FakeRemote, tmp_path: Path) -> None:
    hub.cut_first_response["model.safetensors"] = 100_000
    dest = tmp_path / "cache" / "llm"
    outcome = run_loader(plan(dest), tmp_path, {"HF_ENDPOINT": hub.url})
    assert outcome.code == 0, outcome.stderr
    assert (dest / "model.safetensors").read_bytes() == WEIGHTS
    blobs = hub.seen("/cdn/org/llm/")
    assert [r.headers.get("range") for r in blobs] == [None, "bytes=100000-"]
    assert "connection closed after 100000 of 300000 bytes" in outcome.stderr
    manifest = json.loads((dest / ".genai-manifest.json").read_text())
    assert {f["path"]: f["sha256"] for f in manifest["files"]}["model.safetensors"] == hashlib.sha256(
        WEIGHTS
    ).hexdigest()
    assert not list(dest.glob("*.part"))


def test_a_part_left_by_an_earlier_run_is_resumed(hub: FakeRemote, tmp_path: Path) -> None:
    dest = tmp_path / "llm"
    dest.mkdir()
    (dest / ".genai-filling.json").write_text(json.dumps({"uri": "hf://org/llm", "file": None, "ggufType": None}))
    (dest / "model.safetensors.part").write_bytes(WEIGHTS[:123_456])
    outcome = run_loader(plan(dest), tmp_path, {"HF_ENDPOINT": hub.url})
    assert outcome.code == 0, outcome.stderr
    assert [r.headers.get("range") for r in hub.seen("/cdn/")] == ["bytes=123456-"]
    assert (dest / "model.safetensors").read_bytes() == WEIGHTS


def test_a_server_that_ignores_range_restarts_the_file_from_zero(hub: FakeRemote, tmp_path: Path) -> None:
    hub.ignore_range = True
    hub.cut_first_response["model.safetensors"] = 50_000
    dest = tmp_path / "llm"
    outcome = run_loader(plan(dest), tmp_path, {"HF_ENDPOINT": hub.url})
    assert outcome.code == 0, outcome.stderr
    assert (dest / "model.safetensors").read_bytes() == WEIGHTS
    assert hub.seen("/cdn/")[-1].headers.get("range") == "bytes=50000-"  # asked, answered with 200 and all bytes


def test_wrong_bytes_of_the_right_size_fail_the_checksum(hub: FakeRemote, tmp_path: Path) -> None:
    hub.corrupt.add("model.safetensors")
    dest = tmp_path / "llm"
    outcome = run_loader(plan(dest), tmp_path, {"HF_ENDPOINT": hub.url})
    assert outcome.code == 1
    line = outcome.termination.strip()
    assert line.startswith("ChecksumMismatch: model hf://org/llm: model.safetensors has sha256 "), line
    assert hashlib.sha256(WEIGHTS).hexdigest() in line and "the next attempt fetches it again" in line
    assert line in outcome.stderr
    assert not (dest / "model.safetensors").exists() and not (dest / "model.safetensors.part").exists()
    assert not (dest / ".genai-complete").exists()


def test_a_small_file_outside_lfs_is_checked_by_its_git_blob_id(hub: FakeRemote, tmp_path: Path) -> None:
    hub.corrupt.add("config.json")
    outcome = run_loader(plan(tmp_path / "llm"), tmp_path, {"HF_ENDPOINT": hub.url})
    assert outcome.code == 1
    assert outcome.termination.startswith(
        "ChecksumMismatch: model hf://org/llm: config.json does not have the git blob id "
    ), outcome.termination


def test_a_stale_part_is_fetched_again_from_zero_before_a_checksum_failure(hub: FakeRemote, tmp_path: Path) -> None:
    dest = tmp_path / "llm"
    dest.mkdir()
    (dest / ".genai-filling.json").write_text(json.dumps({"uri": "hf://org/llm", "file": None, "ggufType": None}))
    (dest / "model.safetensors.part").write_bytes(b"\0" * 1000)  # right length to resume from, wrong bytes
    outcome = run_loader(plan(dest), tmp_path, {"HF_ENDPOINT": hub.url})
    assert outcome.code == 0, outcome.stderr
    assert [r.headers.get("range") for r in hub.seen("/cdn/")] == ["bytes=1000-", None]
    assert (dest / "model.safetensors").read_bytes() == WEIGHTS


def test_a_file_whose_size_differs_from_the_listing_fails_with_size_mismatch(hub: FakeRemote, tmp_path: Path) -> None:
    hub.size_lies["config.json"] = 7
    outcome = run_loader(plan(tmp_path / "llm"), tmp_path, {"HF_ENDPOINT": hub.url})
    assert outcome.code == 1
    assert outcome.termination.startswith(
        "SizeMismatch: model hf://org/llm: config.json: the server sends 23 bytes but the listing says 30"
    ), outcome.termination


def test_5xx_and_429_are_retried_and_retry_after_is_honoured(hub: FakeRemote, tmp_path: Path) -> None:
    hub.respond("/cdn/", 503)
    hub.respond("/cdn/", 429, headers={"Retry-After": "7"})
    hub.respond("/tree/", 502)
    outcome = run_loader(plan(tmp_path / "llm"), tmp_path, {"HF_ENDPOINT": hub.url})
    assert outcome.code == 0, outcome.stderr
    assert 7.0 in outcome.sleeps and len(outcome.sleeps) == 3
    assert len(hub.seen("/cdn/")) == 3
    assert "HTTP 429" in outcome.stderr and "attempt 2 of 5" in outcome.stderr


def test_five_failed_attempts_are_a_network_error(hub: FakeRemote, tmp_path: Path) -> None:
    hub.respond("/cdn/", 503, times=5)
    outcome = run_loader(plan(tmp_path / "llm"), tmp_path, {"HF_ENDPOINT": hub.url})
    assert outcome.code == 1
    assert outcome.termination.startswith(
        "NetworkError: model hf://org/llm: downloading model.safetensors failed 5 times (last: HTTP 503 from localhost:"
    ), outcome.termination
    assert "check that the pod reaches 127.0.0.1:" in outcome.termination
    assert len(hub.seen("/cdn/")) == 5


def test_an_unreachable_endpoint_is_a_network_error(tmp_path: Path) -> None:
    with FakeRemote() as fake:
        endpoint = fake.url
    outcome = run_loader(plan(tmp_path / "llm"), tmp_path, {"HF_ENDPOINT": endpoint})
    assert outcome.code == 1
    assert outcome.termination.startswith("NetworkError: model hf://org/llm: listing org/llm failed 5 times"), (
        outcome.termination
    )


def test_the_token_goes_to_the_hub_only_and_never_into_the_log(hub: FakeRemote, tmp_path: Path) -> None:
    token = "hf_secretTOKEN123"
    outcome = run_loader(plan(tmp_path / "llm"), tmp_path, {"HF_ENDPOINT": hub.url, "HF_TOKEN": token})
    assert outcome.code == 0, outcome.stderr
    hub_requests = [r for r in hub.requests if not r.path.startswith("/cdn/")]
    assert hub_requests and all(r.headers["authorization"] == f"Bearer {token}" for r in hub_requests)
    assert hub.seen("/cdn/") and all("authorization" not in r.headers for r in hub.seen("/cdn/"))
    assert token not in outcome.stderr
    assert sorted(model_files(tmp_path / "llm")) == ["config.json", "model.safetensors"]
    assert files_under(tmp_path / "llm")["config.json"] == FILES["config.json"]


def test_progress_lines_read_as_the_contract_says() -> None:
    now = [0.0]
    gib = 1024**3
    progress = ItemProgress("model", int(4.4 * gib), clock=lambda: now[0])
    item = progress.file("model-00001-of-00004.safetensors")
    now[0] = 1.2 * 1024 / 85.3  # seconds to move 1.2 GiB at 85.3 MiB/s
    item.advance(int(1.2 * gib))
    assert progress.line(item.path) == "model: 1.2/4.4 GiB (27%) model-00001-of-00004.safetensors 85.3 MiB/s eta 38s"
    assert progress.summary(4, "cache miss", 52.2) == "model: fetched 4 files, 4.4 GiB in 52s (cache miss)"
    assert [format_bytes(n) for n in (5, 2048, 3 * 1024**2)] == ["5 B", "2.0 KiB", "3.0 MiB"]
    assert [format_duration(s) for s in (59, 192, 3725)] == ["59s", "3m12s", "1h02m"]


def test_progress_is_logged_at_most_every_five_seconds_per_file(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    progress = ItemProgress("model", 100, clock=lambda: now[0])
    item = progress.file("a.safetensors")
    logger = "genai_model_loader.progress"
    with caplog.at_level("INFO", logger=logger):
        for step in range(10):
            now[0] = step * 1.0
            item.advance(10)
        item.finish()
    lines = [r.getMessage() for r in caplog.records if r.name == logger]
    # Ten advances over 9 s: one line at t=5 s (the next would be due at 10 s), then the completion line.
    assert lines == [
        "model: 60/100 B (60%) a.safetensors 12 B/s eta 3s",
        "model: 100/100 B (100%) a.safetensors 11 B/s done",
    ]


def test_files_an_interrupted_run_completed_are_kept_when_they_check_out(hub: FakeRemote, tmp_path: Path) -> None:
    dest = tmp_path / "llm"
    dest.mkdir()
    (dest / ".genai-filling.json").write_text(json.dumps({"uri": "hf://org/llm", "file": None, "ggufType": None}))
    (dest / "model.safetensors").write_bytes(WEIGHTS)
    (dest / "config.json").write_bytes(b"x" * len(FILES["config.json"]))  # right size, but its blob id differs
    outcome = run_loader(plan(dest), tmp_path, {"HF_ENDPOINT": hub.url})
    assert outcome.code == 0, outcome.stderr
    assert hub.seen("/cdn/") == []  # the weights were kept
    assert (dest / "config.json").read_bytes() == FILES["config.json"]  # the git blob id told them apart
    assert [r.path for r in hub.seen("/resolve/")] == [f"/org/llm/resolve/{hub.shas[('org/llm', 'main')]}/config.json"]


def test_retry_after_takes_seconds_or_an_http_date() -> None:
    from email.utils import formatdate

    from genai_model_loader.retry import RetryPolicy, parse_retry_after

    assert parse_retry_after("12") == 12.0
    assert 25 < (parse_retry_after(formatdate(__import__("time").time() + 30, usegmt=True)) or 0) <= 30
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert RetryPolicy().delay(1, 9999) == 300.0  # a server asking for an hour gets five minutes
    assert 0.8 <= RetryPolicy().delay(1, None) <= 1.2 and RetryPolicy().delay(9, None) <= 36


def test_git_blob_ids_are_what_git_computes(tmp_path: Path) -> None:
    from genai_model_loader.file_checks import git_blob_sha1

    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "hello").write_bytes(b"hello\n")
    assert git_blob_sha1(tmp_path / "empty") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
    assert git_blob_sha1(tmp_path / "hello") == "ce013625030ba8dba906f756967f9e9ca394464a"


def test_copy_hashed_streams_with_its_digest_and_a_full_disk_is_no_space(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []
    target = tmp_path / "model.safetensors.part"
    assert copy_hashed(io.BytesIO(WEIGHTS), target, "model.safetensors", seen.append) == (
        hashlib.sha256(WEIGHTS).hexdigest(),
        len(WEIGHTS),
    )
    assert target.read_bytes() == WEIGHTS and sum(seen) == len(WEIGHTS)

    class FullDisk(io.BytesIO):
        def write(self, data: object) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    full = tmp_path / "full.part"
    real_open = Path.open
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: FullDisk() if self == full else real_open(self, *a, **k))
    with pytest.raises(LoaderError) as failure:
        copy_hashed(io.BytesIO(WEIGHTS), full, "weights/model.safetensors")
    assert failure.value.reason == Reason.NO_SPACE and "while writing weights/model.safetensors" in str(failure.value)
    assert not full.exists()
