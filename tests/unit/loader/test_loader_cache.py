"""The model loader's cache directories (loader/genai_model_loader/cache_dir.py, fetch_mode.py): a complete
directory for the same uri is a cache hit with zero HTTP requests; a new revision fills a new directory; a
directory holding other content is emptied before a refill; pruning keeps the N most recent revisions of a
source and nothing else; two loader processes filling the same directory download once and both succeed; a
volume without room fails with NoSpace before any file is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from genai_model_loader.cache_dir import prune_old_revisions
from support.loader_http import FakeRemote, model_files, run_loader
from support.paths import ROOT

REPO = {"config.json": b"{}", "model.safetensors": b"w" * 20_000, "tokenizer.json": b"{}"}


@pytest.fixture
def hub() -> Iterator[FakeRemote]:
    with FakeRemote() as fake:
        fake.add_repo("org/llm", REPO)
        for revision in ("r1", "r2", "r3"):
            fake.add_repo("org/llm", {**REPO, "config.json": revision.encode()}, revision=revision)
        fake.add_repo("org/other", REPO)
        yield fake


def item(dest: Path, uri: str = "hf://org/llm", **extra: Any) -> dict[str, Any]:
    return {"name": "model", "uri": uri, "dest": str(dest), "mode": "fetch", **extra}


def test_a_cache_hit_makes_no_request_at_all(hub: FakeRemote, tmp_path: Path) -> None:
    dest = tmp_path / "cache" / "llm-main"
    env = {"HF_ENDPOINT": hub.url}
    assert run_loader([item(dest)], tmp_path, env).code == 0
    marker = json.loads((dest / ".genai-complete").read_text())
    assert marker["uri"] == "hf://org/llm" and marker["bytes"] == 20_004 and marker["files"] == 3
    hub.clear()
    outcome = run_loader([item(dest)], tmp_path, env)
    assert outcome.code == 0, outcome.stderr
    assert hub.requests == []
    assert f"model: cache hit at {dest} (19.5 KiB, 3 files, completed " in outcome.stderr


def test_another_file_selection_is_not_a_hit(hub: FakeRemote, tmp_path: Path) -> None:
    hub.add_repo("org/gguf", {"m.Q4_K_M.gguf": b"4" * 100, "m.Q8_0.gguf": b"8" * 200})
    dest = tmp_path / "gguf"
    env = {"HF_ENDPOINT": hub.url}
    assert run_loader([item(dest, "hf://org/gguf", ggufType="Q4_K_M")], tmp_path, env).code == 0
    assert run_loader([item(dest, "hf://org/gguf", ggufType="Q8_0")], tmp_path, env).code == 0
    assert list(model_files(dest)) == ["m.Q8_0.gguf"]  # the other type's file went with the old content


def test_a_new_revision_fills_a_new_directory(hub: FakeRemote, tmp_path: Path) -> None:
    env = {"HF_ENDPOINT": hub.url}
    assert run_loader([item(tmp_path / "llm-r1", "hf://org/llm@r1")], tmp_path, env).code == 0
    hub.clear()
    outcome = run_loader([item(tmp_path / "llm-r2", "hf://org/llm@r2")], tmp_path, env)
    assert outcome.code == 0, outcome.stderr
    assert len(hub.seen("/resolve/")) == 3
    assert (tmp_path / "llm-r1" / "config.json").read_bytes() == b"r1"
    assert (tmp_path / "llm-r2" / "config.json").read_bytes() == b"r2"


def test_a_directory_holding_other_content_is_emptied_before_the_refill(hub: FakeRemote, tmp_path: Path) -> None:
    dest = tmp_path / "llm"
    env = {"HF_ENDPOINT": hub.url}
    assert run_loader([item(dest, "hf://org/llm@r1")], tmp_path, env).code == 0
    (dest / "model.safetensors.part").write_bytes(b"junk")
    (dest / "extra.bin").write_bytes(b"old")
    outcome = run_loader([item(dest, "hf://org/llm@r2")], tmp_path, env)
    assert outcome.code == 0, outcome.stderr
    assert "holds other content (hf://org/llm@r1); emptying it" in outcome.stderr
    assert sorted(model_files(dest)) == ["config.json", "model.safetensors", "tokenizer.json"]
    assert (dest / "config.json").read_bytes() == b"r2"
    assert json.loads((dest / ".genai-complete").read_text())["uri"] == "hf://org/llm@r2"
    assert not (dest / ".genai-filling.json").exists()


def test_pruning_keeps_the_n_most_recent_revisions_of_the_same_source(hub: FakeRemote, tmp_path: Path) -> None:
    env = {"HF_ENDPOINT": hub.url}
    cache = tmp_path / "cache"
    for name, uri in [
        ("other", "hf://org/other"),
        ("llm-main", "hf://org/llm"),
        ("llm-r1", "hf://org/llm@r1"),
        ("llm-r2", "hf://org/llm@r2"),
    ]:
        assert run_loader([item(cache / name, uri)], tmp_path, env).code == 0  # no keep: nothing pruned
    (cache / "unfinished").mkdir()
    outcome = run_loader([item(cache / "llm-r3", "hf://org/llm@r3", keep=2)], tmp_path, env)
    assert outcome.code == 0, outcome.stderr
    assert sorted(p.name for p in cache.iterdir() if p.is_dir()) == ["llm-r2", "llm-r3", "other", "unfinished"]
    assert f"pruned {cache / 'llm-r1'} (an older revision of hf://org/llm)" in outcome.stderr
    assert prune_old_revisions(cache / "llm-r3", 1, "model") == [cache / "llm-r2"]
    assert prune_old_revisions(cache / "llm-r3", 1, "model") == []


def test_pruning_leaves_a_directory_another_loader_holds(hub: FakeRemote, tmp_path: Path) -> None:
    import fcntl

    env = {"HF_ENDPOINT": hub.url}
    for revision in ("r1", "r2"):
        assert run_loader([item(tmp_path / revision, f"hf://org/llm@{revision}")], tmp_path, env).code == 0
    with open(tmp_path / "r1.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert prune_old_revisions(tmp_path / "r2", 1, "model") == []
    assert (tmp_path / "r1" / ".genai-complete").exists()


def test_two_loaders_filling_one_directory_download_it_once(hub: FakeRemote, tmp_path: Path) -> None:
    hub.body_delay = 0.2  # long enough that the second process finds the lock taken
    dest = tmp_path / "shared" / "llm"
    plan = json.dumps([item(dest)])
    env = {**os.environ, "PYTHONPATH": str(ROOT / "loader"), "HF_ENDPOINT": hub.url, "PYTHONDONTWRITEBYTECODE": "1"}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "genai_model_loader", "--plan", plan, "--termination-log", str(tmp_path / f"t{n}")],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(2)
    ]
    outputs = [p.communicate(timeout=30)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert sorted(r.path for r in hub.seen("/resolve/")) == [
        "/org/llm/resolve/" + hub.shas[("org/llm", "main")] + f"/{name}" for name in sorted(REPO)
    ]
    waited = [o for o in outputs if "waiting for another replica to fill the cache" in o]
    assert len(waited) == 1 and "cache hit" in waited[0] and "filled by another replica" in waited[0]
    assert sum("(cache miss)" in o for o in outputs) == 1
    assert (dest / "model.safetensors").read_bytes() == REPO["model.safetensors"]


def test_no_space_fails_before_any_download(hub: FakeRemote, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.disk_usage

    def small_volume(path: str | os.PathLike[str]) -> Any:
        return real(path)._replace(free=5_000)

    monkeypatch.setattr(shutil, "disk_usage", small_volume)
    outcome = run_loader([item(tmp_path / "cache" / "llm")], tmp_path, {"HF_ENDPOINT": hub.url})
    assert outcome.code == 1
    assert outcome.termination == (
        f"NoSpace: model hf://org/llm: the files need 19.5 KiB more (19.5 KiB in all) but the cache volume at "
        f"{tmp_path / 'cache'} has 4.9 KiB free; raise the pool's cache size\n"
    )
    assert hub.seen("/resolve/") == []


def test_no_space_counts_only_what_is_still_missing(
    hub: FakeRemote, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "llm"
    dest.mkdir()
    (dest / ".genai-filling.json").write_text(json.dumps({"uri": "hf://org/llm", "file": None, "ggufType": None}))
    (dest / "model.safetensors.part").write_bytes(REPO["model.safetensors"][:19_000])
    real = shutil.disk_usage
    monkeypatch.setattr(shutil, "disk_usage", lambda path: real(path)._replace(free=1_100))
    outcome = run_loader([item(dest)], tmp_path, {"HF_ENDPOINT": hub.url})
    assert outcome.code == 0, outcome.stderr


def test_a_gguf_pick_is_linked_under_a_fixed_name_and_success_is_reported(hub: FakeRemote, tmp_path: Path) -> None:
    parts = {f"q/m-Q4_K_M-0000{i}-of-00002.gguf": bytes([i]) * 50 for i in (1, 2)}
    hub.add_repo("org/split", {**parts, "m-Q8_0.gguf": b"8" * 10})
    dest = tmp_path / "split"
    env = {"HF_ENDPOINT": hub.url}
    first = run_loader([item(dest, "hf://org/split", ggufType="Q4_K_M", link="model.gguf")], tmp_path, env)
    assert first.code == 0, first.stderr
    link = dest / "model.gguf"
    assert link.is_symlink() and os.readlink(link) == "q/m-Q4_K_M-00001-of-00002.gguf"  # llama.cpp finds part 2
    assert link.read_bytes() == bytes([1]) * 50
    assert first.termination.startswith("Fetched: model downloaded; model in place (100 B)")
    hub.clear()
    again = run_loader([item(dest, "hf://org/split", ggufType="Q4_K_M", link="model.gguf")], tmp_path, env)
    assert again.code == 0 and hub.requests == [] and link.is_symlink()
    assert again.termination.startswith("CacheHit: model in place")


def test_a_link_must_stay_inside_dest(tmp_path: Path) -> None:
    outcome = run_loader([item(tmp_path / "x", "hf://org/llm", link="../escape")], tmp_path)
    assert outcome.code == 2 and outcome.termination.startswith("InvalidPlan: --plan item 0 (model): link must be")
