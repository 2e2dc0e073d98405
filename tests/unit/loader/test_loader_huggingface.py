"""The model loader's Hugging Face source (loader/genai_model_loader/huggingface.py, file_selection.py,
source_uris.py): which files of a repository are fetched (safetensors over bin, original/ and duplicate
consolidated checkpoints skipped, GGUF by type with all parts of a split file, unknown types listing the
available ones), the tree API's Link pagination, the commit sha pinned and recorded, a file named in the uri,
and the 401/403/404 answers turned into termination-log lines that name the item, the uri and the fix.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from genai_model_loader.errors import LoaderError, Reason
from genai_model_loader.file_selection import gguf_types, select_files
from genai_model_loader.remote_files import RemoteFile
from genai_model_loader.source_uris import BucketRef, HubRef, LocalRef, parse_source
from support.loader_http import FakeRemote, model_files, run_loader


def listing(*paths: str) -> list[RemoteFile]:
    return [RemoteFile(p, 10) for p in paths]


def hub_pick(*paths: str) -> list[str]:
    return [f.path for f in select_files(listing(*paths), file=None, gguf_type=None, default_filter=True)]


def gguf_pick(gguf_type: str, *paths: str) -> list[str]:
    return [f.path for f in select_files(listing(*paths), file=None, gguf_type=gguf_type, default_filter=True)]


def selection_error(**kwargs: str | None) -> LoaderError:
    paths = kwargs.pop("paths") or ""
    with pytest.raises(LoaderError) as caught:
        select_files(
            listing(*paths.split()), file=kwargs.get("file"), gguf_type=kwargs.get("gguf_type"), default_filter=True
        )
    return caught.value


LLAMA = (
    "config.json",
    "generation_config.json",
    "model-00001-of-00002.safetensors",
    "model-00002-of-00002.safetensors",
    "model.safetensors.index.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "LICENSE.txt",
    "README.md",
    ".gitattributes",
    "original/consolidated.00.pth",
    "original/params.json",
    "original/tokenizer.model",
    "pytorch_model-00001-of-00002.bin",
    "pytorch_model.bin.index.json",
    "flax_model.msgpack",
    "tf_model.h5",
    "onnx/model.onnx",
    "onnx/config.json",
    "model.gguf",
    "modeling_custom.py",
    "figure.png",
)


def test_safetensors_and_what_the_engine_reads_are_picked_nothing_else() -> None:
    assert hub_pick(*LLAMA) == [
        "LICENSE.txt",
        "chat_template.jinja",
        "config.json",
        "generation_config.json",
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
        "model.safetensors.index.json",
        "special_tokens_map.json",
        "tokenizer.json",
        "tokenizer_config.json",
    ]


def test_bin_weights_only_when_no_safetensors_exist() -> None:
    assert hub_pick("config.json", "pytorch_model.bin", "tokenizer.model", "training_args.bin", "original/x.pt") == [
        "config.json",
        "pytorch_model.bin",
        "tokenizer.model",
        "training_args.bin",
    ]


def test_a_consolidated_copy_beside_sharded_safetensors_is_skipped() -> None:
    assert hub_pick(
        "config.json",
        "params.json",
        "consolidated.safetensors",
        "model-00001-of-00001.safetensors",
        "tokenizer.model.v3",
    ) == ["config.json", "model-00001-of-00001.safetensors", "params.json", "tokenizer.model.v3"]
    assert hub_pick("params.json", "consolidated.safetensors") == ["consolidated.safetensors", "params.json"]
    assert hub_pick("config.json", "model.safetensors", "ckpt/consolidated.00.pth", "ckpt/params.json") == [
        "config.json",
        "model.safetensors",
    ]


def test_a_gguf_only_repository_without_gguf_type_says_to_set_it() -> None:
    err = selection_error(paths="README.md llama-8b.Q4_K_M.gguf llama-8b.Q8_0.gguf config.json")
    assert err.reason is Reason.NOT_FOUND
    assert err.detail == (
        "no model weights (*.safetensors, *.bin) in the source; it holds GGUF files (Q4_K_M, "
        "Q8_0): set spec.quantization.ggufType"
    )


GGUF_REPO = (
    "README.md",
    "Meta-Llama-3-8B-Instruct-Q4_K_M.gguf",
    "Meta-Llama-3-8B-Instruct-Q4_K_S.gguf",
    "Meta-Llama-3-8B-Instruct-IQ4_XS.gguf",
    "Meta-Llama-3-8B-Instruct-Q8_0.gguf",
    "mmproj-Meta-Llama-3-8B-Q8_0.gguf",
    "Meta-Llama-3-8B-Instruct-f16.gguf",
    "Q6_K/Meta-Llama-3-8B-Instruct-Q6_K-00001-of-00003.gguf",
    "Q6_K/Meta-Llama-3-8B-Instruct-Q6_K-00002-of-00003.gguf",
    "Q6_K/Meta-Llama-3-8B-Instruct-Q6_K-00003-of-00003.gguf",
)


def test_gguf_type_picks_its_file_as_a_whole_token_case_insensitively() -> None:
    assert gguf_pick("Q4_K_M", *GGUF_REPO) == ["Meta-Llama-3-8B-Instruct-Q4_K_M.gguf"]
    assert gguf_pick("q4_k_s", *GGUF_REPO) == ["Meta-Llama-3-8B-Instruct-Q4_K_S.gguf"]
    assert gguf_pick("IQ4_XS", *GGUF_REPO) == ["Meta-Llama-3-8B-Instruct-IQ4_XS.gguf"]
    assert gguf_pick("F16", *GGUF_REPO) == ["Meta-Llama-3-8B-Instruct-f16.gguf"]
    # The projector shares the type but is not the model.
    assert gguf_pick("Q8_0", *GGUF_REPO) == ["Meta-Llama-3-8B-Instruct-Q8_0.gguf"]


def test_gguf_type_of_a_split_file_takes_all_its_parts() -> None:
    assert gguf_pick("Q6_K", *GGUF_REPO) == [
        f"Q6_K/Meta-Llama-3-8B-Instruct-Q6_K-0000{n}-of-00003.gguf" for n in (1, 2, 3)
    ]
    err = selection_error(gguf_type="Q6_K", paths=" ".join(p for p in GGUF_REPO if "00002-of" not in p))
    assert err.reason is Reason.NOT_FOUND and "has 3 parts but the source lacks part(s) 2" in err.detail


def test_an_unknown_gguf_type_lists_the_available_ones() -> None:
    err = selection_error(gguf_type="Q3_K_L", paths=" ".join(GGUF_REPO))
    assert err.reason is Reason.NOT_FOUND
    assert err.detail == (
        "no .gguf file of type Q3_K_L; the source has F16, IQ4_XS, Q4_K_M, Q4_K_S, Q6_K, Q8_0; "
        "set spec.quantization.ggufType to one of them"
    )
    assert gguf_types(listing("x.gguf")) == []
    assert (
        "ggufType Q4_K_M asks for a GGUF file but the source has no .gguf files"
        in selection_error(gguf_type="Q4_K_M", paths="config.json model.safetensors").detail
    )


def test_a_named_file_alone_or_all_parts_of_a_split_one() -> None:
    named = select_files(
        listing(*GGUF_REPO), file="Meta-Llama-3-8B-Instruct-Q8_0.gguf", gguf_type=None, default_filter=True
    )
    assert [f.path for f in named] == ["Meta-Llama-3-8B-Instruct-Q8_0.gguf"]
    split = select_files(
        listing(*GGUF_REPO),
        file="Q6_K/Meta-Llama-3-8B-Instruct-Q6_K-00002-of-00003.gguf",
        gguf_type=None,
        default_filter=True,
    )
    assert len(split) == 3 and split[0].path.endswith("00001-of-00003.gguf")
    err = selection_error(file="nope.gguf", paths="a.Q4_K_M.gguf b.Q8_0.gguf")
    assert (
        err.detail == "the file nope.gguf is not in the source (its .gguf files: a.Q4_K_M.gguf, b.Q8_0.gguf); "
        "check the path"
    )


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("hf://meta-llama/Llama-3.1-8B-Instruct", HubRef("meta-llama/Llama-3.1-8B-Instruct", None, None)),
        ("hf://org/repo@v1.0", HubRef("org/repo", None, "v1.0")),
        ("hf://org/repo/sub/x-Q4_K_M.gguf@abc123", HubRef("org/repo", "sub/x-Q4_K_M.gguf", "abc123")),
        ("hf://gpt2", HubRef("gpt2", None, None)),
        ("s3://bucket/models/llama/", BucketRef("s3", "bucket", "models/llama/")),
        ("gs://bucket", BucketRef("gs", "bucket", "")),
        ("file:///model-source/llama%20v2", LocalRef("/model-source/llama v2")),
    ],
)
def test_uris_parse(uri: str, expected: object) -> None:
    assert parse_source(uri) == expected


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("hf://", "the repository must be org/name"),
        ("hf://org/repo@", "the revision after @ is empty"),
        ("hf://org/../etc", "the repository must be org/name"),
        ("hf://org/repo/../x", "may not contain . or .."),
        ("s3://Bad_Bucket!/x", "is not a bucket name"),
        ("file://relative/path", "file:// needs an absolute path"),
        ("ftp://host/x", "the scheme ftp:// is not supported"),
        ("meta-llama/Llama-3.1-8B", "it has no scheme"),
    ],
)
def test_bad_uris_are_invalid_sources(uri: str, why: str) -> None:
    with pytest.raises(LoaderError) as caught:
        parse_source(uri)
    assert caught.value.reason is Reason.INVALID_SOURCE and why in caught.value.detail


# -- against the fake Hub ------------------------------------------------------------------------------------------
REPO = {
    "config.json": b"{}",
    "tokenizer.json": b'{"t": 1}',
    "model-00001-of-00002.safetensors": b"a" * 5000,
    "model-00002-of-00002.safetensors": b"b" * 3000,
    "pytorch_model.bin": b"c" * 100,
    "original/consolidated.00.pth": b"d" * 100,
    "README.md": b"# hi",
    "sub/x-Q4_K_M.gguf": b"g" * 700,
}


@pytest.fixture
def hub() -> Iterator[FakeRemote]:
    with FakeRemote() as fake:
        yield fake


def test_the_tree_is_paged_and_files_come_from_the_resolved_commit(hub: FakeRemote, tmp_path: Path) -> None:
    sha = hub.add_repo("org/llm", REPO, revision="v2")
    hub.tree_page_size = 3
    dest = tmp_path / "llm"
    outcome = run_loader(
        [{"name": "model", "uri": "hf://org/llm@v2", "dest": str(dest)}], tmp_path, {"HF_ENDPOINT": hub.url + "/"}
    )
    assert outcome.code == 0, outcome.stderr
    assert len(hub.seen("/tree/")) == 4  # 10 entries (2 directories, 8 files) in pages of 3
    assert hub.seen("/revision/")[0].path == "/api/models/org/llm/revision/v2"
    assert {r.path.split("/")[4] for r in hub.seen("/resolve/")} == {sha}
    assert sorted(model_files(dest)) == [
        "config.json",
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
        "tokenizer.json",
    ]
    manifest = json.loads((dest / ".genai-manifest.json").read_text())
    assert (manifest["uri"], manifest["source"], manifest["revision"], manifest["sha"]) == (
        "hf://org/llm@v2",
        "hf://org/llm",
        "v2",
        sha,
    )
    assert manifest["bytes"] == 8000 + 2 + 8 and len(manifest["files"]) == 4
    assert "model: fetched 4 files, 7.8 KiB in " in outcome.stderr and "(cache miss)" in outcome.stderr


def test_a_hub_without_the_revision_api_still_works(hub: FakeRemote, tmp_path: Path) -> None:
    hub.add_repo("org/llm", REPO)
    hub.respond("/revision/", 404, times=5)
    dest = tmp_path / "llm"
    outcome = run_loader(
        [{"name": "model", "uri": "hf://org/llm", "dest": str(dest)}], tmp_path, {"HF_ENDPOINT": hub.url}
    )
    assert outcome.code == 0, outcome.stderr
    assert json.loads((dest / ".genai-manifest.json").read_text())["sha"] is None
    assert {r.path.split("/")[4] for r in hub.seen("/resolve/")} == {"main"}


def test_a_file_named_in_the_uri_is_fetched_alone(hub: FakeRemote, tmp_path: Path) -> None:
    hub.add_repo("org/llm", REPO)
    dest = tmp_path / "gguf"
    outcome = run_loader(
        [{"name": "model", "uri": "hf://org/llm/sub/x-Q4_K_M.gguf", "dest": str(dest)}],
        tmp_path,
        {"HF_ENDPOINT": hub.url},
    )
    assert outcome.code == 0, outcome.stderr
    assert list(model_files(dest)) == ["sub/x-Q4_K_M.gguf"]


def test_401_names_the_uri_and_the_secret_to_set(hub: FakeRemote, tmp_path: Path) -> None:
    hub.respond("/api/models/", 401, times=10)
    uri = "hf://meta-llama/Llama-3.1-8B-Instruct"
    outcome = run_loader(
        [{"name": "model", "uri": uri, "dest": str(tmp_path / "m")}], tmp_path, {"HF_ENDPOINT": hub.url}
    )
    assert outcome.code == 1
    assert outcome.termination.startswith(
        f"Unauthorized: model {uri}: the Hub answered 401; set spec.model.credentialsSecret to a Secret with key "
        "HF_TOKEN that can read this repository"
    ), outcome.termination
    assert outcome.termination.count("\n") == 1 and len(outcome.termination.encode()) < 1024


def test_401_with_a_token_says_the_token_was_refused(hub: FakeRemote, tmp_path: Path) -> None:
    hub.respond("/api/models/", 401, times=10)
    outcome = run_loader(
        [{"name": "adapter:sql", "uri": "hf://org/lora", "dest": str(tmp_path / "a")}],
        tmp_path,
        {"HF_ENDPOINT": hub.url, "HF_TOKEN": "hf_x"},
    )
    expected = (
        "Unauthorized: adapter:sql hf://org/lora: the Hub answered 401: it refused the token; put a valid "
        "token under key HF_TOKEN in the Secret that spec.model.credentialsSecret (also used for adapter sql) "
        "names"
    )
    assert outcome.termination.startswith(expected), outcome.termination


def test_403_on_a_gated_repository_says_to_accept_the_license(hub: FakeRemote, tmp_path: Path) -> None:
    hub.respond("/api/models/", 403, times=10, headers={"X-Error-Code": "GatedRepo"})
    outcome = run_loader(
        [{"name": "model", "uri": "hf://org/gated", "dest": str(tmp_path / "m")}],
        tmp_path,
        {"HF_ENDPOINT": hub.url, "HF_TOKEN": "hf_x"},
    )
    assert outcome.code == 1
    assert outcome.termination.startswith("Forbidden: model hf://org/gated: the Hub answered 403 (GatedRepo): ")
    assert "accept its license" in outcome.termination


def test_404_names_the_uri_and_what_to_check(hub: FakeRemote, tmp_path: Path) -> None:
    hub.add_repo("org/x", REPO)
    outcome = run_loader(
        [{"name": "model", "uri": "hf://org/x@rev", "dest": str(tmp_path / "m")}], tmp_path, {"HF_ENDPOINT": hub.url}
    )
    assert outcome.code == 1
    assert outcome.termination == (
        "NotFound: model hf://org/x@rev: repository or revision not found (check the name and revision; gated or "
        "private repositories answer 404 without a token)\n"
    )
    assert not (tmp_path / "m").exists()


def test_no_matching_files_is_not_found(hub: FakeRemote, tmp_path: Path) -> None:
    hub.add_repo("org/llm", REPO)
    outcome = run_loader(
        [{"name": "model", "uri": "hf://org/llm", "dest": str(tmp_path / "m"), "ggufType": "Q2_K"}],
        tmp_path,
        {"HF_ENDPOINT": hub.url},
    )
    assert outcome.code == 1
    assert outcome.termination.startswith(
        "NotFound: model hf://org/llm: no .gguf file of type Q2_K; the source has "
        "Q4_K_M; set spec.quantization.ggufType to one of them"
    )
