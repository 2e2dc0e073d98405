"""Model URIs parsed into what each source needs; anything else is an InvalidSource error naming the forms
that work. No network, no environment: the whole plan is parsed before the first byte is fetched."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from genai_model_loader.errors import LoaderError, Reason

SUPPORTED = "hf://org/repo[@revision], hf://org/repo/path/file.gguf[@revision], s3://bucket/prefix, " \
    "gs://bucket/prefix or file:///path"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")


@dataclass(frozen=True)
class HubRef:
    """A Hugging Face Hub repository, optionally one file in it, at a revision (None: the default branch)."""

    repo: str
    path: str | None
    revision: str | None


@dataclass(frozen=True)
class BucketRef:
    """An S3 or GCS bucket and the key prefix (or single key) under it."""

    scheme: Literal["s3", "gs"]
    bucket: str
    prefix: str


@dataclass(frozen=True)
class LocalRef:
    """A directory or file on a mounted volume."""

    path: str


SourceRef = HubRef | BucketRef | LocalRef


def parse_source(uri: str) -> SourceRef:
    scheme, sep, rest = uri.partition("://")
    if not sep:
        raise _invalid(uri, "it has no scheme")
    if scheme == "hf":
        return _hub(uri, rest)
    if scheme in ("s3", "gs"):
        bucket, _, prefix = rest.partition("/")
        if not _BUCKET.fullmatch(bucket):
            raise _invalid(uri, f"{bucket!r} is not a bucket name")
        return BucketRef("s3" if scheme == "s3" else "gs", bucket, prefix)
    if scheme == "file":
        parts = urlsplit(uri)
        if parts.netloc or not parts.path.startswith("/"):
            raise _invalid(uri, "file:// needs an absolute path, as in file:///model-source/llama")
        return LocalRef(unquote(parts.path))
    if scheme == "pvc":
        raise LoaderError(Reason.INVALID_SOURCE, "pvc:// sources are mounted by the operator, not fetched: "
                          "the plan must use mode verify, or fetch from file:///model-source/<path>")
    if scheme == "oci":
        raise LoaderError(Reason.INVALID_SOURCE, "oci:// models are mounted as image volumes, not fetched by the "
                          "loader: the plan must use mode verify for them")
    raise _invalid(uri, f"the scheme {scheme}:// is not supported")


def _hub(uri: str, rest: str) -> HubRef:
    body, at, revision = rest.partition("@")
    if at and (not revision or any(c.isspace() for c in revision)):
        raise _invalid(uri, "the revision after @ is empty or has spaces")
    segments = body.strip("/").split("/")
    if not segments[0] or not all(_NAME.fullmatch(s) for s in segments[:2]) or "" in segments:
        raise _invalid(uri, "the repository must be org/name")
    if any(s in (".", "..") for s in segments):
        raise _invalid(uri, "the path may not contain . or ..")
    # Legacy repositories have no organisation (hf://gpt2); a path always follows an org/name pair.
    repo = "/".join(segments[:2])
    path = "/".join(segments[2:]) or None
    return HubRef(repo, path, revision or None)


def without_revision(uri: str) -> str:
    """The source a cache directory holds, whatever its revision: what pruning groups by."""
    if uri.startswith("hf://"):
        return uri.partition("@")[0]
    return uri


def revision_of(uri: str) -> str | None:
    if uri.startswith("hf://"):
        return uri.partition("@")[2] or None
    return None


def _invalid(uri: str, why: str) -> LoaderError:
    return LoaderError(Reason.INVALID_SOURCE, f"cannot read the uri: {why}; write {SUPPORTED}")
