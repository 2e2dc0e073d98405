"""The model loader's S3 and GCS source (loader/genai_model_loader/sigv4.py, buckets.py): SigV4 reproduces the
signatures of the AWS documentation's examples (GET Object with a Range, GET Bucket), every request the loader
sends carries a well-formed Authorization header whose signature the fake S3 recomputes with its own
implementation, ListObjectsV2 pagination with continuation tokens, the single-part ETag checked as an MD5 (not
a multipart or SSE-KMS one), anonymous access without keys, gs:// against GS_ENDPOINT_URL with region auto,
and the store's refusals explained.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path

import pytest

from genai_model_loader.buckets import BucketSource, _etag_is_md5
from genai_model_loader.retry import RetryPolicy
from genai_model_loader.sigv4 import Credentials, canonical_request, sign
from genai_model_loader.source_uris import BucketRef
from support.loader_http import AUTHORIZATION, FakeRemote, expected_signature, model_files, run_loader

# The example credentials of the AWS documentation (Signature Version 4, "Examples of signature calculations").
EXAMPLE = Credentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
EXAMPLE_DATE = datetime(2013, 5, 24, tzinfo=UTC)
SECRET = "s3cr3t/Key+With=Symbols"
OBJECTS = {
    f"models/llama/{name}": os.urandom(size)
    for name, size in [
        ("config.json", 40),
        ("model-00001-of-00002.safetensors", 9000),
        ("model-00002-of-00002.safetensors", 7000),
        ("tokenizer.json", 300),
        ("sub/dir/extra.txt", 20),
    ]
}
OBJECTS["models/llama-2/config.json"] = b"a sibling prefix, not part of models/llama"
OBJECTS["models/single.gguf"] = b"g" * 512


def test_sigv4_reproduces_the_documented_get_object_example() -> None:
    headers = sign(
        "GET",
        "https://examplebucket.s3.amazonaws.com/test.txt",
        {"Range": "bytes=0-9"},
        EXAMPLE,
        "us-east-1",
        EXAMPLE_DATE,
    )
    assert headers["Authorization"] == (
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    )
    assert headers["x-amz-date"] == "20130524T000000Z"
    assert headers["x-amz-content-sha256"] == hashlib.sha256(b"").hexdigest()
    canonical, _ = canonical_request(
        "GET",
        "https://examplebucket.s3.amazonaws.com/test.txt",
        {k: v for k, v in headers.items() if k != "Authorization"},
        headers["x-amz-content-sha256"],
    )
    assert (
        hashlib.sha256(canonical.encode()).hexdigest()
        == "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"
    )  # the documented canonical request hash


def test_sigv4_reproduces_the_documented_list_objects_example() -> None:
    headers = sign(
        "GET", "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J", {}, EXAMPLE, "us-east-1", EXAMPLE_DATE
    )
    assert headers["Authorization"].endswith(
        "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
        "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
    )


def test_sigv4_matches_an_independent_implementation_and_signs_the_session_token() -> None:
    credentials = Credentials("AKIDEXAMPLE", SECRET, "FwoGZXIvYXdzEBYaDH+token/==")
    url = "http://127.0.0.1:9000/bucket/?continuation-token=a%2Bb%2F%3D&list-type=2&prefix=models%2Fllama"
    headers = sign("GET", url, {}, credentials, "eu-west-3", datetime(2024, 2, 29, 12, 30, 1, tzinfo=UTC))
    match = AUTHORIZATION.fullmatch(headers["Authorization"])
    assert match, headers["Authorization"]
    assert match["signed"] == "host;x-amz-content-sha256;x-amz-date;x-amz-security-token"
    assert headers["x-amz-security-token"] == credentials.session_token
    lower = {k.lower(): v for k, v in headers.items()} | {"host": "127.0.0.1:9000"}
    assert match["signature"] == expected_signature(
        SECRET, "GET", url.split("9000", 1)[1], lower, match["signed"].split(";"), "20240229", "eu-west-3"
    )
    # Deterministic: the same request at the same time signs the same.
    assert sign("GET", url, {}, credentials, "eu-west-3", datetime(2024, 2, 29, 12, 30, 1, tzinfo=UTC)) == headers
    assert SECRET not in repr(credentials) and "token" not in repr(credentials)


@pytest.fixture
def s3() -> Iterator[FakeRemote]:
    with FakeRemote() as fake:
        fake.add_bucket("models-bucket", dict(OBJECTS))
        fake.s3_keys = {"AKIDLOADERTEST": SECRET}
        fake.list_page_size = 2
        yield fake


def s3_env(fake: FakeRemote, **extra: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "AKIDLOADERTEST",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_REGION": "eu-central-1",
        "AWS_ENDPOINT_URL": fake.url,
        **extra,
    }


def test_a_prefix_is_listed_page_by_page_and_fetched_with_signed_requests(s3: FakeRemote, tmp_path: Path) -> None:
    dest = tmp_path / "llama"
    outcome = run_loader(
        [{"name": "model", "uri": "s3://models-bucket/models/llama", "dest": str(dest)}], tmp_path, s3_env(s3)
    )
    assert outcome.code == 0, outcome.stderr
    lists = [r for r in s3.requests if r.query.get("list-type") == "2"]
    assert len(lists) == 3  # 6 keys start with models/llama (one of them under models/llama-2/), 2 per page
    assert [("continuation-token" in r.query) for r in lists] == [False, True, True]
    assert any(c in lists[1].query["continuation-token"] for c in "+/=")  # encoded and signed as S3 expects
    assert all(r.query["prefix"] == "models/llama" for r in lists)
    assert sorted(model_files(dest)) == [
        "config.json",
        "model-00001-of-00002.safetensors",
        "model-00002-of-00002.safetensors",
        "sub/dir/extra.txt",
        "tokenizer.json",
    ]
    assert (dest / "model-00001-of-00002.safetensors").read_bytes() == OBJECTS[
        "models/llama/model-00001-of-00002.safetensors"
    ]
    for request in s3.requests:  # the fake answered 403 to any bad signature; here the header's shape
        match = AUTHORIZATION.fullmatch(request.headers["authorization"])
        assert match and match["key"] == "AKIDLOADERTEST" and match["region"] == "eu-central-1"
        assert match["signed"].split(";")[:3] == ["host", "x-amz-content-sha256", "x-amz-date"]
        assert request.path.startswith("/models-bucket")  # path-style against a custom endpoint
    assert SECRET not in outcome.stderr


def test_a_resumed_object_signs_its_range(s3: FakeRemote, tmp_path: Path) -> None:
    s3.cut_first_response["models/llama/model-00002-of-00002.safetensors"] = 3000
    outcome = run_loader(
        [{"name": "model", "uri": "s3://models-bucket/models/llama/", "dest": str(tmp_path / "d")}],
        tmp_path,
        s3_env(s3),
    )
    assert outcome.code == 0, outcome.stderr
    resumed = [r for r in s3.requests if r.headers.get("range")]
    assert [r.headers["range"] for r in resumed] == ["bytes=3000-"]
    assert "range" in AUTHORIZATION.fullmatch(resumed[0].headers["authorization"])["signed"].split(";")  # type: ignore[index]


def test_a_single_object_uri_fetches_that_object(s3: FakeRemote, tmp_path: Path) -> None:
    single = {"name": "model", "uri": "s3://models-bucket/models/single.gguf", "dest": str(tmp_path / "g")}
    outcome = run_loader([single], tmp_path, s3_env(s3))
    assert outcome.code == 0, outcome.stderr
    assert list(model_files(tmp_path / "g")) == ["single.gguf"]


def test_the_etag_md5_is_verified_for_single_part_objects(s3: FakeRemote, tmp_path: Path) -> None:
    s3.corrupt.add("models/llama/tokenizer.json")
    outcome = run_loader(
        [{"name": "model", "uri": "s3://models-bucket/models/llama", "dest": str(tmp_path / "d")}], tmp_path, s3_env(s3)
    )
    assert outcome.code == 1
    assert outcome.termination.startswith(
        "ChecksumMismatch: model s3://models-bucket/models/llama: tokenizer.json has MD5 "
    ), outcome.termination
    assert hashlib.md5(OBJECTS["models/llama/tokenizer.json"]).hexdigest() in outcome.termination


def test_multipart_and_kms_etags_are_not_taken_for_md5s(s3: FakeRemote, tmp_path: Path) -> None:
    s3.multipart.add("models/llama/tokenizer.json")
    outcome = run_loader(
        [{"name": "model", "uri": "s3://models-bucket/models/llama", "dest": str(tmp_path / "d")}], tmp_path, s3_env(s3)
    )
    assert outcome.code == 0, outcome.stderr
    headers = Message()
    assert _etag_is_md5(None) and _etag_is_md5(headers)
    headers["x-amz-server-side-encryption"] = "AES256"
    assert _etag_is_md5(headers)
    headers.replace_header("x-amz-server-side-encryption", "aws:kms")
    assert not _etag_is_md5(headers)


def test_without_keys_requests_are_anonymous(s3: FakeRemote, tmp_path: Path) -> None:
    s3.s3_keys = {}
    single = {"name": "model", "uri": "s3://models-bucket/models/single.gguf", "dest": str(tmp_path / "g")}
    outcome = run_loader([single], tmp_path, {"AWS_ENDPOINT_URL": s3.url})
    assert outcome.code == 0, outcome.stderr
    assert s3.requests and all("authorization" not in r.headers for r in s3.requests)


def test_gs_uses_its_endpoint_and_region_auto(s3: FakeRemote, tmp_path: Path) -> None:
    env = s3_env(s3, GS_ENDPOINT_URL=s3.url)
    del env["AWS_ENDPOINT_URL"]
    outcome = run_loader(
        [{"name": "model", "uri": "gs://models-bucket/models/llama", "dest": str(tmp_path / "d")}], tmp_path, env
    )
    assert outcome.code == 0, outcome.stderr
    assert {AUTHORIZATION.fullmatch(r.headers["authorization"])["region"] for r in s3.requests} == {"auto"}  # type: ignore[index]


def test_endpoints_by_default() -> None:
    def base(uri: str, **env: str) -> str:
        ref = BucketRef("gs" if uri.startswith("gs") else "s3", *uri[5:].split("/", 1))
        return BucketSource(ref, "model", env, RetryPolicy()).base

    assert base("s3://bucket/p", AWS_DEFAULT_REGION="eu-west-1") == "https://bucket.s3.eu-west-1.amazonaws.com"
    assert base("s3://my.dotted.bucket/p") == "https://s3.us-east-1.amazonaws.com/my.dotted.bucket"
    assert base("s3://bucket/p", AWS_ENDPOINT_URL="http://minio:9000/") == "http://minio:9000/bucket"
    assert base("gs://bucket/p") == "https://storage.googleapis.com/bucket"


@pytest.mark.parametrize(
    ("env_change", "expected"),
    [
        (
            {"AWS_SECRET_ACCESS_KEY": "wrong"},
            "Forbidden: model s3://models-bucket/models/llama: S3 answered 403 "
            "(SignatureDoesNotMatch); AWS_SECRET_ACCESS_KEY does not match the key id; check the Secret "
            "(spec.model.credentialsSecret)",
        ),
        (
            {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
            "Forbidden: model s3://models-bucket/models/llama: S3 "
            "answered 403 (AccessDenied) to an anonymous request; "
            "set spec.model.credentialsSecret to a Secret with keys "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        ),
    ],
)
def test_refusals_name_the_fix(s3: FakeRemote, tmp_path: Path, env_change: dict[str, str], expected: str) -> None:
    outcome = run_loader(
        [{"name": "model", "uri": "s3://models-bucket/models/llama", "dest": str(tmp_path / "d")}],
        tmp_path,
        s3_env(s3) | env_change,
    )
    assert outcome.code == 1
    assert outcome.termination == expected + "\n"


def test_a_missing_bucket_and_an_empty_prefix_are_not_found(s3: FakeRemote, tmp_path: Path) -> None:
    s3.respond("/no-such-bucket", 404, body=b"<Error><Code>NoSuchBucket</Code></Error>")
    outcome = run_loader(
        [{"name": "model", "uri": "s3://no-such-bucket/x", "dest": str(tmp_path / "d")}], tmp_path, s3_env(s3)
    )
    assert outcome.termination == (
        "NotFound: model s3://no-such-bucket/x: S3 answered 404 (NoSuchBucket): the bucket "
        "does not exist; check the bucket name\n"
    )
    outcome = run_loader(
        [{"name": "model", "uri": "s3://models-bucket/nothing/", "dest": str(tmp_path / "e")}], tmp_path, s3_env(s3)
    )
    assert outcome.termination == (
        "NotFound: model s3://models-bucket/nothing/: no objects under "
        "s3://models-bucket/nothing/; check the bucket and prefix\n"
    )


def test_a_bucket_in_another_region_says_which(s3: FakeRemote, tmp_path: Path) -> None:
    s3.respond(
        "/models-bucket",
        301,
        headers={"x-amz-bucket-region": "ap-south-1"},
        body=b"<Error><Code>PermanentRedirect</Code></Error>",
    )
    outcome = run_loader(
        [{"name": "model", "uri": "s3://models-bucket/models/llama", "dest": str(tmp_path / "d")}], tmp_path, s3_env(s3)
    )
    assert outcome.termination.startswith(
        "InvalidSource: model s3://models-bucket/models/llama: S3 answered 301 "
        "(PermanentRedirect): the bucket is in region ap-south-1; set AWS_REGION"
    )
