"""The model loader's cache against hostile sources and shared use (issue 17, item 6): an image layer that
decompresses far beyond its listed size (alone, or with the other layers of the image), a source that lists the
loader's own bookkeeping files to fake a complete cache, and pruning in a cache shared by several
ModelDeployments, which must never delete a revision another one uses. Caps are set small through the
environment; the registry, the Hub and S3 are the fake ones on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_loader_oci import descriptor, env_for, host, image, tar_of

from genai_model_loader import cache_dir
from genai_model_loader.cache_dir import add_reference, prune_old_revisions, references
from support.loader_http import FakeRemote, files_under, run_loader

TAR_GZ = "application/vnd.oci.image.layer.v1.tar+gzip"
SLACK = 1 << 20  # LOADER_UNPACK_SLACK_BYTES in these tests: 1 MiB


@pytest.fixture
def fake() -> Iterator[FakeRemote]:
    with FakeRemote() as remote:
        yield remote


def item(dest: Path, uri: str, **extra: Any) -> dict[str, Any]:
    return {"name": "model", "uri": uri, "dest": str(dest), **extra}


def pull(fake: FakeRemote, tmp_path: Path, layers: list[bytes], tag: str = "v1") -> tuple[int, str, Path]:
    image(fake, "org/llm", [descriptor(fake, layer, TAR_GZ) for layer in layers], tag)
    dest = tmp_path / "cache" / tag
    env = env_for(fake) | {"LOADER_UNPACK_SLACK_BYTES": str(SLACK)}
    outcome = run_loader([item(dest, f"oci://{host(fake)}/org/llm:{tag}")], tmp_path, env)
    return outcome.code, outcome.termination, dest


# -- decompression bombs ---------------------------------------------------------------------------------------
def test_a_layer_unpacking_far_beyond_its_listed_size_is_refused(fake: FakeRemote, tmp_path: Path) -> None:
    bomb = tar_of([("config.json", b"{}"), ("model.safetensors", bytes(8 << 20))])
    assert len(bomb) < 20_000  # 8 MiB of zeros in a few KiB
    code, termination, dest = pull(fake, tmp_path, [bomb])
    assert code == 1
    assert termination.startswith("InvalidSource: model oci://")
    assert (
        "unpacks to more than 1.0 MiB (its limit: 4x the listed size plus 1.0 MiB); refused as a decompression bomb"
        in termination
        and "raise LOADER_UNPACK_RATIO or LOADER_UNPACK_SLACK_BYTES" in termination
    )
    assert sum(len(content) for content in files_under(dest).values()) <= SLACK + 4 * len(bomb)
    assert not (dest / ".genai-complete").exists()


def test_layers_within_their_own_cap_are_refused_past_the_images_cap(fake: FakeRemote, tmp_path: Path) -> None:
    layers = [tar_of([(f"part-{n}.safetensors", bytes(700 << 10))]) for n in range(2)]
    code, termination, _ = pull(fake, tmp_path, layers[:1])
    assert code == 0, termination  # one layer of 700 KiB fits
    code, termination, _ = pull(fake, tmp_path, layers, "v2")
    assert code == 1 and "(with the earlier layers, the image limit: 4x the listed size" in termination


def test_a_layer_without_a_size_is_refused(fake: FakeRemote, tmp_path: Path) -> None:
    layer = descriptor(fake, tar_of([("config.json", b"{}")]), TAR_GZ)
    del layer["size"]
    image(fake, "org/llm", [layer], "v1")
    outcome = run_loader([item(tmp_path / "llm", f"oci://{host(fake)}/org/llm:v1")], tmp_path, env_for(fake))
    assert outcome.code == 1 and "has no size; push it again with a current client" in outcome.termination


# -- the loader's own files ------------------------------------------------------------------------------------
def fake_marker(uri: str) -> bytes:
    return json.dumps({"uri": uri, "file": None, "ggufType": None, "bytes": 1, "files": 1}).encode()


def test_a_bucket_cannot_fake_a_complete_cache(fake: FakeRemote, tmp_path: Path) -> None:
    uri = "s3://models/llm"
    fake.add_bucket("models", {"llm/.genai-complete": fake_marker(uri), "llm/model.safetensors": b"w" * 100})
    fake.corrupt.add("llm/model.safetensors")  # the fill fails after the listed marker would have been written
    dest = tmp_path / "llm"
    for _ in range(2):  # the second run is no cache hit either
        outcome = run_loader([item(dest, uri)], tmp_path, {"AWS_ENDPOINT_URL": fake.url})
        assert outcome.code == 1 and "cache hit" not in outcome.stderr
        assert outcome.termination.startswith(
            "InvalidSource: model s3://models/llm: the source lists "
            "'.genai-complete', a name the loader keeps for its own files"
        )
    assert not (dest / ".genai-complete").exists()


def test_a_hub_repository_cannot_write_the_loaders_manifest(fake: FakeRemote, tmp_path: Path) -> None:
    fake.add_repo("org/llm", {"config.json": b"{}", "sub/.genai-manifest.json": b"{}"})
    outcome = run_loader([item(tmp_path / "llm", "hf://org/llm")], tmp_path, {"HF_ENDPOINT": fake.url})
    assert outcome.code == 1 and "the source lists 'sub/.genai-manifest.json'" in outcome.termination


def test_an_image_layer_cannot_carry_the_marker(fake: FakeRemote, tmp_path: Path) -> None:
    uri = f"oci://{host(fake)}/org/llm:v1"
    code, termination, dest = pull(fake, tmp_path, [tar_of([("./.genai-complete", fake_marker(uri))])])
    assert code == 1 and ": the source lists '.genai-complete'" in termination
    assert not (dest / ".genai-complete").exists()


# -- pruning a shared cache ------------------------------------------------------------------------------------
@pytest.fixture
def hub(fake: FakeRemote) -> FakeRemote:
    for revision in ("r1", "r2", "r3"):
        fake.add_repo("org/llm", {"config.json": revision.encode(), "m.safetensors": b"w"}, revision=revision)
    return fake


def test_pruning_never_deletes_a_revision_another_owner_uses(hub: FakeRemote, tmp_path: Path) -> None:
    env, cache = {"HF_ENDPOINT": hub.url}, tmp_path / "cache"

    def load(owner: str, revision: str) -> str:
        plan = [item(cache / revision, f"hf://org/llm@{revision}", keep=1, owner=owner)]
        outcome = run_loader(plan, tmp_path, env)
        assert outcome.code == 0, outcome.stderr
        return outcome.stderr

    load("ml/a", "r1")
    log = load("ml/b", "r2")  # keep 1, but r1 is a's
    assert (cache / "r1" / ".genai-complete").exists()
    assert f"kept {cache / 'r1'} (an older revision of hf://org/llm) for ml/a, which use it" in log
    load("ml/a", "r3")  # a moves on: its r1 goes, b's r2 stays
    assert sorted(p.name for p in cache.iterdir() if p.is_dir()) == ["r2", "r2.refs", "r3", "r3.refs"]
    assert references(cache / "r2") == {"ml/b"} and references(cache / "r3") == {"ml/a"}


def test_a_reference_made_while_pruning_keeps_the_directory_complete(
    hub: FakeRemote, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {"HF_ENDPOINT": hub.url}
    for revision in ("r1", "r2"):
        assert run_loader([item(tmp_path / revision, f"hf://org/llm@{revision}")], tmp_path, env).code == 0
    real = cache_dir.references

    def racing(directory: Path) -> set[str]:  # another pod references r1 just after the pruner looked
        if directory.name == "r1" and not (directory / ".genai-complete").exists():
            add_reference(directory, "ml/late")
        return real(directory)

    monkeypatch.setattr(cache_dir, "references", racing)
    assert prune_old_revisions(tmp_path / "r2", 1, "model", "ml/b") == []
    assert (tmp_path / "r1" / ".genai-complete").exists()


def test_an_owner_must_be_a_namespace_and_a_name(tmp_path: Path) -> None:
    outcome = run_loader([item(tmp_path / "llm", "hf://org/llm", owner="../x")], tmp_path)
    assert outcome.code == 2 and "owner must be <namespace>/<name>" in outcome.termination
