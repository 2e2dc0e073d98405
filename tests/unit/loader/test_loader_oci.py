"""The model loader's OCI registry source (loader/genai_model_loader/oci_registry.py, oci_auth.py, oci_layers.py,
oci_manifests.py, source_uris.py) against the fake registry of loader_support: oci:// uris parsed as docker reads
image names (docker.io and library/, ports, digests over tags, bad names refused naming the accepted form); the
token dance (401 Bearer challenge, token from the realm with the credentials of REGISTRY_AUTH_FILE, retry) and
Basic challenges; anonymous pulls; ORAS artifacts whose titled layers become files, with the manifest digest
recorded; image layers (tar, tar+gzip, Docker's) unpacked safely and hostile entries refused; an index resolved to
linux on this machine's architecture; blobs checked against their digest, resumed after a cut, renewed tokens
after a mid-fetch 401, and redirects to storage without Authorization; the 401/403/404 answers explained with the
fix; cache hits, pruning and verify mode without a request; `python -m genai_model_loader` end to end; and the
operator's rendered init container for an oci:// model (plan, env, auth-file mount) run as the loader runs it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from genai_model_loader.errors import LoaderError, Reason
from genai_model_loader.oci_auth import Credentials, load_credentials
from genai_model_loader.oci_manifests import architecture, pick_platform
from genai_model_loader.oci_registry import OciSource
from genai_model_loader.retry import RetryPolicy
from genai_model_loader.source_uris import OCI_FORM, OciRef, parse_source, revision_of, without_revision
from support.loader_http import FakeRemote, files_under, model_files, run_loader
from support.paths import ROOT

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
TITLE = "org.opencontainers.image.title"
WEIGHTS = os.urandom(200_000)
MODEL = {"model.safetensors": WEIGHTS, "config.json": b'{"model_type": "llama"}'}
DIGEST = "sha256:" + "a" * 64


# -- uris ----------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("oci://ghcr.io/org/model:v1", OciRef("ghcr.io", "org/model", "v1")),
        ("oci://llama", OciRef("docker.io", "library/llama", "latest")),
        ("oci://acme/llama:8b-Q4_K_M", OciRef("docker.io", "acme/llama", "8b-Q4_K_M")),
        ("oci://docker.io/llama:3", OciRef("docker.io", "library/llama", "3")),
        ("oci://index.docker.io/acme/llama", OciRef("docker.io", "acme/llama", "latest")),
        ("oci://localhost:5000/models/llama_3.1-8b__x:v2", OciRef("localhost:5000", "models/llama_3.1-8b__x", "v2")),
        ("oci://localhost/m", OciRef("localhost", "m", "latest")),
        ("oci://Registry.Example.com:8443/a/b/c@" + DIGEST, OciRef("registry.example.com:8443", "a/b/c", DIGEST)),
        ("oci://ghcr.io/org/model:v1@" + DIGEST, OciRef("ghcr.io", "org/model", DIGEST)),  # the digest wins
        ("oci://[::1]:5000/m", OciRef("[::1]:5000", "m", "latest")),
    ],
)
def test_oci_uris_parse_as_docker_reads_image_names(uri: str, expected: OciRef) -> None:
    assert parse_source(uri) == expected


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("oci://ghcr.io/Org/model", "'Org/model' is not a repository"),
        ("oci://ghcr.io/org/-model", "'org/-model' is not a repository"),
        ("oci://ghcr.io/org//model", "'org//model' is not a repository"),
        ("oci://", "'' is not a repository"),
        ("oci://ghcr.io/org/model:", "'' is not a tag"),
        ("oci://ghcr.io/org/model:" + "t" * 129, "is not a tag"),
        ("oci://ghcr.io/org/model:.v1", "'.v1' is not a tag"),
        ("oci://ghcr.io/org/model@sha256:abc", "'sha256:abc' after @ is not a sha256 digest"),
        ("oci://ghcr.io/org/model@md5:" + "a" * 32, "after @ is not a sha256 digest"),
        ("oci://bad_host.io/m", "'bad_host.io' is not a registry host[:port]"),
        ("oci://host.io:port/m", "'host.io:port' is not a registry host[:port]"),
    ],
)
def test_bad_oci_uris_name_the_accepted_form(uri: str, why: str) -> None:
    with pytest.raises(LoaderError) as caught:
        parse_source(uri)
    assert caught.value.reason is Reason.INVALID_SOURCE
    assert caught.value.detail.startswith("cannot read the oci uri: ") and why in caught.value.detail
    assert caught.value.detail.endswith(f"; write {OCI_FORM}")


def test_the_revision_is_the_tag_or_digest_and_the_source_the_repository() -> None:
    assert (
        without_revision("oci://ghcr.io/org/m:v1")
        == without_revision("oci://ghcr.io/org/m@" + DIGEST)
        == "oci://ghcr.io/org/m"
    )
    assert (
        without_revision("oci://llama:3")
        == without_revision("oci://docker.io/library/llama")
        == "oci://docker.io/library/llama"
    )
    assert without_revision("oci://localhost:5000/m:v1") == "oci://localhost:5000/m"
    assert [revision_of(u) for u in ("oci://ghcr.io/org/m:v1", "oci://ghcr.io/org/m", "oci://ghcr.io/m@" + DIGEST)] == [
        "v1",
        "latest",
        DIGEST,
    ]


def test_docker_hub_and_plain_http_registries_are_addressed_as_such() -> None:
    def base(uri: str, plain: str = "") -> str:
        ref = parse_source(uri)
        assert isinstance(ref, OciRef)
        return OciSource(ref, "model", {"OCI_PLAIN_HTTP_REGISTRIES": plain}, RetryPolicy()).base

    assert base("oci://llama:3") == "https://registry-1.docker.io/v2/library/llama"
    assert base("oci://ghcr.io/org/m") == "https://ghcr.io/v2/org/m"
    assert base("oci://localhost:5000/m", " registry.local , localhost:5000") == "http://localhost:5000/v2/m"
    assert base("oci://localhost:5001/m", "localhost:5000") == "https://localhost:5001/v2/m"


@pytest.mark.parametrize(
    ("machine", "expected"),
    [("x86_64", "amd64"), ("AMD64", "amd64"), ("aarch64", "arm64"), ("arm64", "arm64"), ("s390x", "s390x")],
)
def test_machine_names_become_image_platform_architectures(machine: str, expected: str) -> None:
    assert architecture(machine) == expected


def test_an_index_falls_back_to_an_entry_without_platform_then_to_the_first() -> None:
    linux_arm = {"digest": "sha256:1", "platform": {"os": "linux", "architecture": "arm64"}}
    windows = {"digest": "sha256:2", "platform": {"os": "windows", "architecture": "amd64"}}
    bare = {"digest": "sha256:3"}
    assert pick_platform({"manifests": [windows, linux_arm, bare]}, "arm64", "x") == "sha256:1"
    assert pick_platform({"manifests": [windows, linux_arm, bare]}, "amd64", "x") == "sha256:3"
    assert pick_platform({"manifests": [windows, linux_arm]}, "amd64", "x") == "sha256:2"
    with pytest.raises(LoaderError) as caught:
        pick_platform({"manifests": []}, "amd64", "reg/x:v1")
    assert caught.value.reason is Reason.NO_MODEL_FILES


# -- credentials ---------------------------------------------------------------------------------------------------
def auth_file(tmp_path: Path, auths: dict[str, Any]) -> str:
    path = tmp_path / "dockerconfig.json"
    path.write_text(json.dumps({"auths": auths}))
    return str(path)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("registry", "auths", "expected"),
    [
        ("ghcr.io", {"ghcr.io": {"auth": b64("bot:pa:ss")}}, Credentials("bot", "pa:ss")),
        ("ghcr.io", {"https://ghcr.io": {"username": "bot", "password": "pw"}}, Credentials("bot", "pw")),
        ("docker.io", {"https://index.docker.io/v1/": {"auth": b64("me:pw")}}, Credentials("me", "pw")),
        ("docker.io", {"docker.io": {"auth": b64("me:pw")}}, Credentials("me", "pw")),
        ("localhost:5000", {"localhost:5000": {"auth": b64("u:p"), "identitytoken": "x"}}, Credentials("u", "p")),
    ],
)
def test_credentials_are_found_as_docker_files_them(
    tmp_path: Path, registry: str, auths: dict[str, Any], expected: Credentials
) -> None:
    credentials, _ = load_credentials({"REGISTRY_AUTH_FILE": auth_file(tmp_path, auths)}, registry)
    assert credentials == expected
    assert "pa:ss" not in repr(credentials) and "pw" not in repr(credentials)  # never in a log line by accident


def test_without_credentials_the_reason_is_kept_for_the_message(tmp_path: Path) -> None:
    assert load_credentials({}, "ghcr.io") == (None, "no credentials were given: REGISTRY_AUTH_FILE is not set")
    path = auth_file(tmp_path, {"quay.io": {"auth": b64("u:p")}, "acr.io": {"identitytoken": "refresh"}})
    assert load_credentials({"REGISTRY_AUTH_FILE": path}, "ghcr.io") == (
        None,
        f"{path} has no entry for ghcr.io (it has acr.io, quay.io)",
    )
    none, why = load_credentials({"REGISTRY_AUTH_FILE": path}, "acr.io")
    assert none is None and "only an identitytoken, which the loader does not support" in why
    absent = str(tmp_path / "absent" / "config.json")  # an optional Secret key that is not there
    assert load_credentials({"REGISTRY_AUTH_FILE": absent}, "ghcr.io") == (
        None,
        f"no credentials were given: {absent} does not exist (the Secret has no .dockerconfigjson key)",
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("not json", "is not JSON"),
        ('{"credsStore": "desktop"}', "has no auths object"),
        (
            '{"auths": {"ghcr.io": {"auth": "bm8tY29sb24="}}}',
            "has an auth for ghcr.io that is not base64 of user:password",
        ),
        (None, "cannot be read (Is a directory)"),
    ],
)
def test_an_unusable_credentials_file_is_unauthorized(tmp_path: Path, content: str | None, problem: str) -> None:
    path = tmp_path / "config.json"
    if content is not None:
        path.write_text(content)
    else:
        path.mkdir()  # there, but not a file to read
    with pytest.raises(LoaderError) as caught:
        load_credentials({"REGISTRY_AUTH_FILE": str(path)}, "ghcr.io")
    assert caught.value.reason is Reason.UNAUTHORIZED
    assert caught.value.detail.startswith(
        f"the registry credentials at {path} (REGISTRY_AUTH_FILE) {problem}; it "
        "must be the .dockerconfigjson of a kubernetes.io/dockerconfigjson Secret"
    )


# -- against the fake registry -------------------------------------------------------------------------------------
@pytest.fixture
def registry() -> Iterator[FakeRemote]:
    with FakeRemote() as fake:
        yield fake


def host(fake: FakeRemote) -> str:
    return fake.url.removeprefix("http://")


def env_for(fake: FakeRemote, auth: str | None = None) -> dict[str, str]:
    env = {"OCI_PLAIN_HTTP_REGISTRIES": host(fake)}
    return env | {"REGISTRY_AUTH_FILE": auth} if auth else env


def item(dest: Path, uri: str, **extra: Any) -> dict[str, Any]:
    return {"name": "model", "uri": uri, "dest": str(dest), **extra}


def descriptor(
    fake: FakeRemote, content: bytes, media: str, title: str | None = None, **annotations: str
) -> dict[str, Any]:
    notes = {TITLE: title, **annotations} if title else annotations
    return {
        "mediaType": media,
        "digest": fake.add_blob(content),
        "size": len(content),
        **({"annotations": notes} if notes else {}),
    }


def artifact(fake: FakeRemote, repo: str, files: dict[str, bytes], *tags: str) -> str:
    """As `oras push` makes it: a file per layer, titled with its name (ORAS's default type is a plain tar)."""
    return fake.add_manifest(
        repo,
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": "application/vnd.example.model",
            "config": descriptor(fake, b"{}", "application/vnd.oci.empty.v1+json"),
            "layers": [
                descriptor(fake, content, "application/vnd.oci.image.layer.v1.tar", path)
                for path, content in files.items()
            ],
        },
        *tags,
    )


def tar_of(entries: list[tuple[str, bytes | str | None]], gzip: bool = True) -> bytes:
    """A layer: (name, bytes) a file, (name, None) a directory, (name, "->target") a symlink."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if gzip else "w") as archive:
        for name, content in entries:
            info = tarfile.TarInfo(name)
            if content is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            elif isinstance(content, str):
                info.type, info.linkname = tarfile.SYMTYPE, content.removeprefix("->")
                archive.addfile(info)
            else:
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def image(fake: FakeRemote, repo: str, layers: list[dict[str, Any]], *tags: str, media: str = OCI_MANIFEST) -> str:
    config = (
        "application/vnd.docker.container.image.v1+json"
        if media == DOCKER_MANIFEST
        else "application/vnd.oci.image.config.v1+json"
    )
    return fake.add_manifest(
        repo,
        {
            "schemaVersion": 2,
            "mediaType": media,
            "config": descriptor(fake, b'{"architecture": "amd64"}', config),
            "layers": layers,
        },
        *tags,
    )


def test_an_oras_artifact_is_fetched_with_a_token_for_the_credentials(registry: FakeRemote, tmp_path: Path) -> None:
    registry.registry_auth, registry.registry_users = "bearer", {"bot": "s3cret-pw"}
    digest = artifact(registry, "org/llm", MODEL, "v1")
    uri = f"oci://{host(registry)}/org/llm:v1"
    dest = tmp_path / "cache" / "llm"
    path = auth_file(tmp_path, {f"https://{host(registry)}": {"auth": b64("bot:s3cret-pw")}})
    outcome = run_loader([item(dest, uri)], tmp_path, env_for(registry, path))
    assert outcome.code == 0, outcome.stderr
    assert files_under(dest)["model.safetensors"] == WEIGHTS and sorted(model_files(dest)) == [
        "config.json",
        "model.safetensors",
    ]
    first, token, *rest = registry.requests
    assert (first.path, "authorization" in first.headers) == ("/v2/org/llm/manifests/v1", False)
    assert token.path == "/token" and token.query == {"service": "fake-registry", "scope": "repository:org/llm:pull"}
    assert token.headers["authorization"] == f"Basic {b64('bot:s3cret-pw')}"
    assert rest[0].path == "/v2/org/llm/manifests/v1"
    assert sorted(r.path for r in rest[1:]) == sorted(  # the blobs come side by side, in any order
        f"/v2/org/llm/blobs/sha256:{hashlib.sha256(c).hexdigest()}" for c in MODEL.values()
    )
    assert {r.headers["authorization"] for r in rest} == {"Bearer token-0-bot"}
    assert OCI_INDEX in first.headers["accept"] and DOCKER_MANIFEST in first.headers["accept"]
    manifest = json.loads((dest / ".genai-manifest.json").read_text())
    assert (manifest["source"], manifest["revision"], manifest["sha"]) == (
        f"oci://{host(registry)}/org/llm",
        "v1",
        digest,
    )
    assert {f["path"]: f["sha256"] for f in manifest["files"]} == {
        p: hashlib.sha256(c).hexdigest() for p, c in MODEL.items()
    }
    assert json.loads((dest / ".genai-complete").read_text())["uri"] == uri
    assert "s3cret-pw" not in outcome.stderr and "token-0" not in outcome.stderr
    assert f"is {digest} (2 layers)" in outcome.stderr


@pytest.mark.parametrize("token_key", ["token", "access_token"])
def test_a_public_repository_is_pulled_with_an_anonymous_token(
    registry: FakeRemote, tmp_path: Path, token_key: str
) -> None:
    registry.registry_auth, registry.token_key = "bearer", token_key
    registry.public_repos.add("library/llama")
    artifact(registry, "library/llama", MODEL, "latest")
    outcome = run_loader([item(tmp_path / "m", f"oci://{host(registry)}/library/llama")], tmp_path, env_for(registry))
    assert outcome.code == 0, outcome.stderr
    assert [("authorization" in r.headers) for r in registry.seen("/token")] == [False]
    assert sorted(model_files(tmp_path / "m")) == ["config.json", "model.safetensors"]


def test_a_registry_without_auth_gets_no_authorization_header(registry: FakeRemote, tmp_path: Path) -> None:
    artifact(registry, "m", MODEL, "v1")
    outcome = run_loader([item(tmp_path / "m", f"oci://{host(registry)}/m:v1")], tmp_path, env_for(registry))
    assert outcome.code == 0, outcome.stderr
    assert registry.requests and not any("authorization" in r.headers for r in registry.requests)


def test_a_basic_challenge_is_answered_with_the_credentials(registry: FakeRemote, tmp_path: Path) -> None:
    registry.registry_auth, registry.registry_users = "basic", {"u": "p"}
    artifact(registry, "m", MODEL, "v1")
    path = auth_file(tmp_path, {host(registry): {"username": "u", "password": "p"}})
    outcome = run_loader([item(tmp_path / "m", f"oci://{host(registry)}/m:v1")], tmp_path, env_for(registry, path))
    assert outcome.code == 0, outcome.stderr
    assert [r.headers.get("authorization") for r in registry.requests] == [None] + [f"Basic {b64('u:p')}"] * 3


LAYER_ONE = [
    ("./", None),
    ("./models", None),
    ("./models/config.json", b'{"v": 1}'),
    ("./models/model.safetensors", WEIGHTS),
    ("./models/link", "->model.safetensors"),
    ("./models/.wh.old.bin", b""),
]
LAYER_TWO = [("models/config.json", b'{"v": 2}'), ("models/tokenizer.json", b"{}")]


@pytest.mark.parametrize(
    ("manifest_type", "layer_type", "gzip"),
    [
        (OCI_MANIFEST, "application/vnd.oci.image.layer.v1.tar+gzip", True),
        (OCI_MANIFEST, "application/vnd.oci.image.layer.v1.tar", False),
        (DOCKER_MANIFEST, "application/vnd.docker.image.rootfs.diff.tar.gzip", True),
    ],
)
def test_image_layers_are_unpacked_into_dest(
    registry: FakeRemote, tmp_path: Path, manifest_type: str, layer_type: str, gzip: bool
) -> None:
    layers = [descriptor(registry, tar_of(entries, gzip), layer_type) for entries in (LAYER_ONE, LAYER_TWO)]
    image(registry, "modelcar", layers, "v1", media=manifest_type)
    dest = tmp_path / "cache" / "car"
    outcome = run_loader([item(dest, f"oci://{host(registry)}/modelcar:v1")], tmp_path, env_for(registry))
    assert outcome.code == 0, outcome.stderr
    # The second layer's config.json wins; the link and the whiteout are not written; the blobs are gone.
    contents = files_under(dest)
    assert {path: contents[path] for path in model_files(dest)} == {
        "models/config.json": b'{"v": 2}',
        "models/model.safetensors": WEIGHTS,
        "models/tokenizer.json": b"{}",
    }
    assert not list(dest.glob(".genai-oci-layer-*")) and not (dest / "models" / "link").exists()
    manifest = json.loads((dest / ".genai-manifest.json").read_text())
    assert sorted((f["path"], f["size"], f["sha256"]) for f in manifest["files"]) == [
        ("models/config.json", 8, hashlib.sha256(b'{"v": 2}').hexdigest()),
        ("models/model.safetensors", len(WEIGHTS), hashlib.sha256(WEIGHTS).hexdigest()),
        ("models/tokenizer.json", 2, hashlib.sha256(b"{}").hexdigest()),
    ]
    assert manifest["bytes"] == len(WEIGHTS) + 10
    assert "skipped 2 links, devices or whiteouts" in outcome.stderr


@pytest.mark.parametrize("name", ["../evil", "/tmp/evil", "models/../../evil"])
def test_a_layer_entry_outside_dest_is_refused(registry: FakeRemote, tmp_path: Path, name: str) -> None:
    layer = tar_of([("models/config.json", b"{}"), (name, b"owned")])
    image(registry, "hostile", [descriptor(registry, layer, "application/vnd.oci.image.layer.v1.tar+gzip")], "v1")
    dest = tmp_path / "cache" / "hostile"
    outcome = run_loader([item(dest, f"oci://{host(registry)}/hostile:v1")], tmp_path, env_for(registry))
    assert outcome.code == 1
    assert outcome.termination.startswith(f"InvalidSource: model oci://{host(registry)}/hostile:v1: the layer sha256:")
    assert f"holds the unsafe path {name!r}" in outcome.termination
    assert not (tmp_path / "cache" / "evil").exists() and not (tmp_path / "evil").exists()
    assert not Path("/tmp/evil").exists() and not (dest / ".genai-complete").exists()


def test_an_oras_directory_is_unpacked_under_its_title(registry: FakeRemote, tmp_path: Path) -> None:
    packed = tar_of([("llm", None), ("llm/config.json", b"{}"), ("llm/model.safetensors", WEIGHTS)])
    oras = {"io.deis.oras.content.unpack": "true"}
    image(
        registry,
        "dir",
        [descriptor(registry, packed, "application/vnd.oci.image.layer.v1.tar+gzip", "llm", **oras)],
        "v1",
    )
    outcome = run_loader([item(tmp_path / "d", f"oci://{host(registry)}/dir:v1")], tmp_path, env_for(registry))
    assert outcome.code == 0, outcome.stderr
    assert sorted(model_files(tmp_path / "d")) == ["llm/config.json", "llm/model.safetensors"]
    stray = tar_of([("llm/config.json", b"{}"), ("other.json", b"{}")])
    image(
        registry,
        "dir",
        [descriptor(registry, stray, "application/vnd.oci.image.layer.v1.tar+gzip", "llm", **oras)],
        "v2",
    )
    refused = run_loader([item(tmp_path / "e", f"oci://{host(registry)}/dir:v2")], tmp_path, env_for(registry))
    assert "holds 'other.json', outside the directory llm it is titled with" in refused.termination


def test_zstd_layers_and_manifests_without_files_are_explained(registry: FakeRemote, tmp_path: Path) -> None:
    image(registry, "z", [descriptor(registry, b"zz", "application/vnd.oci.image.layer.v1.tar+zstd")], "v1")
    image(registry, "z", [descriptor(registry, b"{}", "application/vnd.oci.empty.v1+json")], "empty")
    zstd = run_loader([item(tmp_path / "z", f"oci://{host(registry)}/z:v1")], tmp_path, env_for(registry))
    assert zstd.termination.startswith(f"InvalidSource: model oci://{host(registry)}/z:v1: the layer sha256:")
    assert (
        "is zstd-compressed (application/vnd.oci.image.layer.v1.tar+zstd), which the loader cannot unpack; build "
        "the image with gzip layers" in zstd.termination
    )
    empty = run_loader([item(tmp_path / "e", f"oci://{host(registry)}/z:empty")], tmp_path, env_for(registry))
    assert empty.termination == (
        f"NoModelFiles: model oci://{host(registry)}/z:empty: the manifest of {host(registry)}/z:empty has no layer to "
        f"fetch (files titled with the {TITLE} annotation, or tar image layers)\n"
    )
    assert not registry.seen("/blobs/")


def test_an_index_resolves_to_linux_on_this_architecture(registry: FakeRemote, tmp_path: Path) -> None:
    this = architecture()
    other = "arm64" if this == "amd64" else "amd64"
    ours = artifact(registry, "multi", {"model.safetensors": b"ours"})
    theirs = artifact(registry, "multi", {"model.safetensors": b"theirs"})
    attestation = artifact(registry, "multi", {"sbom.json": b"{}"})
    entries = [
        (theirs, {"os": "linux", "architecture": other}),
        (ours, {"os": "linux", "architecture": this}),
        (attestation, {"os": "unknown", "architecture": "unknown"}),
    ]
    index = registry.add_manifest(
        "multi",
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [{"mediaType": OCI_MANIFEST, "digest": d, "size": 1, "platform": p} for d, p in entries],
        },
        "v1",
    )
    outcome = run_loader([item(tmp_path / "m", f"oci://{host(registry)}/multi:v1")], tmp_path, env_for(registry))
    assert outcome.code == 0, outcome.stderr
    assert files_under(tmp_path / "m")["model.safetensors"] == b"ours"
    assert [r.path.rsplit("/", 1)[-1] for r in registry.seen("/manifests/")] == ["v1", ours]
    assert json.loads((tmp_path / "m" / ".genai-manifest.json").read_text())["sha"] == index


def test_a_blob_that_does_not_match_its_digest_is_a_checksum_mismatch(registry: FakeRemote, tmp_path: Path) -> None:
    artifact(registry, "m", MODEL, "v1")
    registry.corrupt.add(f"sha256:{hashlib.sha256(WEIGHTS).hexdigest()}")
    dest = tmp_path / "m"
    outcome = run_loader([item(dest, f"oci://{host(registry)}/m:v1")], tmp_path, env_for(registry))
    assert outcome.code == 1
    assert outcome.termination.startswith(
        f"ChecksumMismatch: model oci://{host(registry)}/m:v1: model.safetensors has sha256 "
    )
    assert f"but the source lists {hashlib.sha256(WEIGHTS).hexdigest()}" in outcome.termination
    # The bad file leaves nothing behind; a file fetched beside it may keep its partial download for the next try.
    assert not (dest / "model.safetensors").exists()
    assert not list(dest.glob("model.safetensors*.part")) and not list(dest.glob(".genai-parts-model.safetensors*"))


def test_a_manifest_pulled_by_digest_must_have_that_digest(registry: FakeRemote, tmp_path: Path) -> None:
    real = artifact(registry, "m", MODEL)
    registry.manifests[("m", DIGEST)] = registry.manifests[("m", real)]
    outcome = run_loader([item(tmp_path / "m", f"oci://{host(registry)}/m@{DIGEST}")], tmp_path, env_for(registry))
    assert outcome.termination.startswith(
        f"ChecksumMismatch: model oci://{host(registry)}/m@{DIGEST}: the manifest "
        f"{DIGEST} the registry sent has the digest {real}"
    )
    assert run_loader([item(tmp_path / "r", f"oci://{host(registry)}/m@{real}")], tmp_path, env_for(registry)).code == 0


def test_401_without_credentials_says_which_secret_to_set(registry: FakeRemote, tmp_path: Path) -> None:
    registry.registry_auth = "bearer"
    artifact(registry, "org/private", MODEL, "v1")
    uri = f"oci://{host(registry)}/org/private:v1"
    outcome = run_loader([item(tmp_path / "m", uri)], tmp_path, env_for(registry))
    assert outcome.code == 1
    assert outcome.termination == (
        f"Unauthorized: model {uri}: the registry answered 401 (UNAUTHORIZED); set spec.model.credentialsSecret to a "
        f"kubernetes.io/dockerconfigjson Secret that can pull {host(registry)}/org/private (no credentials were "
        "given: REGISTRY_AUTH_FILE is not set; registries also answer 401 for a repository that does not exist: "
        "check the name)\n"
    )
    # Challenged, an anonymous token, the retry refused: no third round.
    assert [r.path for r in registry.requests] == [
        "/v2/org/private/manifests/v1",
        "/token",
        "/v2/org/private/manifests/v1",
    ]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        (
            "bearer",
            "the token service {host} answered 401: the credentials were refused; check the entry for {host} in "
            "the Secret that spec.model.credentialsSecret names",
        ),
        (
            "basic",
            "the registry answered 401 (UNAUTHORIZED): the credentials were refused; check the entry for {host} "
            "in the Secret that spec.model.credentialsSecret names",
        ),
    ],
)
def test_401_with_credentials_says_they_were_refused(
    registry: FakeRemote, tmp_path: Path, mode: str, expected: str
) -> None:
    registry.registry_auth, registry.registry_users = mode, {"bot": "right"}
    artifact(registry, "m", MODEL, "v1")
    path = auth_file(tmp_path, {host(registry): {"auth": b64("bot:wrong")}})
    outcome = run_loader([item(tmp_path / "m", f"oci://{host(registry)}/m:v1")], tmp_path, env_for(registry, path))
    assert outcome.code == 1
    assert (
        outcome.termination == f"Unauthorized: model oci://{host(registry)}/m:v1: "
        f"{expected.format(host=host(registry))}\n"
    )
    assert "wrong" not in outcome.stderr


def test_credentials_are_not_sent_to_a_plain_http_token_service(registry: FakeRemote, tmp_path: Path) -> None:
    port = host(registry).rsplit(":", 1)[1]
    registry.respond("/manifests/", 401, headers={"WWW-Authenticate": f'Bearer realm="http://localhost:{port}/token"'})
    path = auth_file(tmp_path, {host(registry): {"auth": b64("bot:pw")}})
    outcome = run_loader([item(tmp_path / "m", f"oci://{host(registry)}/m:v1")], tmp_path, env_for(registry, path))
    assert (
        f"asks for credentials to be sent to the plain HTTP token service localhost:{port}; refused"
        in outcome.termination
    )
    assert not registry.seen("/token")


def test_403_is_forbidden_and_404_names_the_reference(registry: FakeRemote, tmp_path: Path) -> None:
    artifact(registry, "org/m", MODEL, "v1")
    registry.respond("/manifests/", 403, body=b'{"errors": [{"code": "DENIED"}]}')
    forbidden = run_loader([item(tmp_path / "a", f"oci://{host(registry)}/org/m:v1")], tmp_path, env_for(registry))
    assert forbidden.termination.startswith(
        f"Forbidden: model oci://{host(registry)}/org/m:v1: the registry answered 403 (DENIED): the credentials may "
        f"not pull {host(registry)}/org/m; "
    )
    for uri, code in [
        (f"oci://{host(registry)}/org/m:v2", "MANIFEST_UNKNOWN"),
        (f"oci://{host(registry)}/org/nope@{DIGEST}", "NAME_UNKNOWN"),
    ]:
        missing = run_loader([item(tmp_path / "b", uri)], tmp_path, env_for(registry))
        assert missing.termination == (
            f"NotFound: model {uri}: the registry answered 404 ({code}): {uri.removeprefix('oci://')} not found; "
            "check the repository and the tag or digest (private repositories may answer 404 without credentials)\n"
        )
    assert not (tmp_path / "b").exists()


def test_an_unreachable_registry_is_a_network_error_with_the_hint(tmp_path: Path) -> None:
    with FakeRemote() as fake:
        address = host(fake)
    outcome = run_loader([item(tmp_path / "m", f"oci://{address}/m:v1")], tmp_path, {})
    assert outcome.termination.startswith(
        f"NetworkError: model oci://{address}/m:v1: reading the manifest {address}/m:v1 failed 5 times"
    )
    assert outcome.termination.rstrip().endswith(
        f"check that the pod reaches {address} (DNS, proxy, NetworkPolicy egress); a registry served over plain HTTP "
        "must be listed in OCI_PLAIN_HTTP_REGISTRIES"
    )


def test_a_cache_hit_makes_no_request_at_all(registry: FakeRemote, tmp_path: Path) -> None:
    artifact(registry, "m", MODEL, "v1")
    dest = tmp_path / "cache" / "m"
    assert run_loader([item(dest, f"oci://{host(registry)}/m:v1")], tmp_path, env_for(registry)).code == 0
    registry.clear()
    outcome = run_loader(
        [item(dest, f"oci://{host(registry)}/m:v1")], tmp_path, env_for(registry, str(tmp_path / "not-read.json"))
    )
    assert outcome.code == 0, outcome.stderr
    assert registry.requests == []
    assert f"model: cache hit at {dest} (195.3 KiB, 2 files, completed " in outcome.stderr


def test_pruning_groups_the_tags_of_one_repository(registry: FakeRemote, tmp_path: Path) -> None:
    for tag in ("v1", "v2"):
        artifact(registry, "m", {**MODEL, "config.json": tag.encode()}, tag)
    cache, env = tmp_path / "cache", env_for(registry)
    assert run_loader([item(cache / "m-v1", f"oci://{host(registry)}/m:v1")], tmp_path, env).code == 0
    outcome = run_loader([item(cache / "m-v2", f"oci://{host(registry)}/m:v2", keep=1)], tmp_path, env)
    assert outcome.code == 0, outcome.stderr
    assert sorted(p.name for p in cache.iterdir() if p.is_dir()) == ["m-v2"]
    assert f"(an older revision of oci://{host(registry)}/m)" in outcome.stderr


def test_a_blob_redirected_to_storage_does_not_carry_authorization(registry: FakeRemote, tmp_path: Path) -> None:
    registry.registry_auth, registry.registry_users, registry.blob_redirect = "bearer", {"bot": "pw"}, True
    artifact(registry, "m", MODEL, "v1")
    path = auth_file(tmp_path, {host(registry): {"auth": b64("bot:pw")}})
    outcome = run_loader([item(tmp_path / "m", f"oci://{host(registry)}/m:v1")], tmp_path, env_for(registry, path))
    assert outcome.code == 0, outcome.stderr
    assert [r.headers.get("authorization") for r in registry.seen("/v2/m/blobs/")] == ["Bearer token-0-bot"] * 2
    stored = registry.seen("/registry-cdn/")
    assert len(stored) == 2 and all("authorization" not in r.headers for r in stored)
    assert files_under(tmp_path / "m")["model.safetensors"] == WEIGHTS


def test_a_blob_cut_midway_is_resumed_with_range(registry: FakeRemote, tmp_path: Path) -> None:
    artifact(registry, "m", {"model.safetensors": WEIGHTS}, "v1")
    registry.cut_first_response[f"sha256:{hashlib.sha256(WEIGHTS).hexdigest()}"] = 70_000
    outcome = run_loader([item(tmp_path / "m", f"oci://{host(registry)}/m:v1")], tmp_path, env_for(registry))
    assert outcome.code == 0, outcome.stderr
    assert [r.headers.get("range") for r in registry.seen("/blobs/")] == [None, "bytes=70000-"]
    assert "connection closed after 70000 of 200000 bytes" in outcome.stderr
    assert (tmp_path / "m" / "model.safetensors").read_bytes() == WEIGHTS


def test_a_token_that_expires_mid_fetch_is_renewed(registry: FakeRemote, tmp_path: Path) -> None:
    registry.registry_auth, registry.registry_users = "bearer", {"bot": "pw"}
    artifact(registry, "m", {"model.safetensors": WEIGHTS}, "v1")
    # The first blob request is challenged as if the manifest's token had run out.
    registry.respond(
        "/blobs/", 401, headers={"WWW-Authenticate": f'Bearer realm="{registry.url}/token",service="fake-registry"'}
    )
    path = auth_file(tmp_path, {host(registry): {"auth": b64("bot:pw")}})
    outcome = run_loader([item(tmp_path / "m", f"oci://{host(registry)}/m:v1")], tmp_path, env_for(registry, path))
    assert outcome.code == 0, outcome.stderr
    assert [r.headers.get("authorization") for r in registry.seen("/blobs/")] == [
        "Bearer token-0-bot",
        "Bearer token-1-bot",
    ]
    assert len(registry.seen("/token")) == 2
    assert (tmp_path / "m" / "model.safetensors").read_bytes() == WEIGHTS


def test_verify_mode_checks_a_mounted_image_without_a_request(tmp_path: Path) -> None:
    root = tmp_path / "model-source"
    (root / "sub").mkdir(parents=True)
    (root / "config.json").write_bytes(b"{}")
    (root / "model.safetensors").write_bytes(b"w")
    outcome = run_loader(
        [item(root, "oci://ghcr.io/org/model:v1", mode="verify")], tmp_path, {"OCI_PLAIN_HTTP_REGISTRIES": "ghcr.io"}
    )
    assert outcome.code == 0, outcome.stderr
    assert f"model: verified {root}: config.json and 1 weight files" in outcome.stderr


def test_python_m_genai_model_loader_fetches_from_a_registry(registry: FakeRemote, tmp_path: Path) -> None:
    registry.registry_auth, registry.registry_users = "bearer", {"bot": "pw"}
    artifact(registry, "org/llm", MODEL, "v1")
    path = auth_file(tmp_path, {host(registry): {"auth": b64("bot:pw")}})
    dest = tmp_path / "cache" / "llm"
    plan = [{"name": "model", "uri": f"oci://{host(registry)}/org/llm:v1", "dest": str(dest)}]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(ROOT / "loader"),
        "PYTHONDONTWRITEBYTECODE": "1",
        **env_for(registry, path),
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "genai_model_loader",
            "--plan",
            json.dumps(plan),
            "--termination-log",
            str(tmp_path / "termination"),
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "model: fetched 2 files, 195.3 KiB in " in result.stderr
    assert (tmp_path / "termination").read_text().startswith("Fetched: model downloaded; model in place (195.3 KiB)")
    assert files_under(dest)["model.safetensors"] == WEIGHTS


def test_the_plan_the_operator_renders_for_an_oci_model_is_what_the_loader_pulls(
    registry: FakeRemote, tmp_path: Path
) -> None:
    # The contract between the two sides: the operator's rendered init container (plan, env, the auth file's
    # mount) run by the loader, with only the pod's paths moved under tmp_path.
    from genai_operator.settings import Settings
    from support.render_fixtures import assign, manifest, plan_for, pool

    registry.registry_auth, registry.registry_users = "bearer", {"bot": "pw"}
    artifact(registry, "org/llm", MODEL, "v1")
    md = manifest(
        model={"uri": f"oci://{host(registry)}/org/llm:v1", "parameters": "8B", "credentialsSecret": "registry"},
        engine="VLLM",
    )
    plan = plan_for(md, assign(pool()), Settings())
    init = plan.init_containers[0]
    items = json.loads(init["args"][1])
    env = {e["name"]: e["value"] for e in init["env"]}
    auth_mount = next(m["mountPath"] for m in init["volumeMounts"] if m["name"] == "registry-auth")
    secret_file = next(v for v in plan.volumes if v["name"] == "registry-auth")["secret"]["items"][0]["path"]
    assert env["REGISTRY_AUTH_FILE"] == f"{auth_mount}/{secret_file}"
    # What the kubelet mounts from the dockerconfigjson Secret's .dockerconfigjson key.
    mounted = tmp_path / auth_mount.lstrip("/") / secret_file
    mounted.parent.mkdir(parents=True)
    mounted.write_text(json.dumps({"auths": {host(registry): {"auth": b64("bot:pw")}}}))
    moved = [{**i, "dest": str(tmp_path / i["dest"].lstrip("/"))} for i in items]
    outcome = run_loader(moved, tmp_path, {**env, "REGISTRY_AUTH_FILE": str(mounted), **env_for(registry)})
    assert outcome.code == 0, outcome.stderr
    (model,) = moved
    assert sorted(model_files(Path(model["dest"]))) == ["config.json", "model.safetensors"]
    assert items[0]["dest"] in plan.args  # the engine loads the directory the loader filled
