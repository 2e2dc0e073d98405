"""Model URIs parsed into what each source needs (hf://, s3://, gs://, oci:// fetched from a registry, file://);
anything else is an InvalidSource error naming the forms that work. No network, no environment: the whole plan is
parsed before the first byte is fetched."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

from genai_model_loader.errors import LoaderError, Reason

SUPPORTED = (
    "hf://org/repo[@revision], hf://org/repo/path/file.gguf[@revision], s3://bucket/prefix, "
    "gs://bucket/prefix, oci://[registry/]repo[:tag][@sha256:<digest>] or file:///path"
)
OCI_FORM = "oci://[registry[:port]/]repo[:tag][@sha256:<64 hex>], as in oci://ghcr.io/org/model:v1"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")
# The distribution spec's grammar: path components, tags, digests; hosts as DNS names or [IPv6], with a port.
_OCI_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_OCI_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_OCI_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_OCI_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:]+\])(?::[0-9]{1,5})?"
)
DOCKER_HUB = "docker.io"
DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})


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


@dataclass(frozen=True)
class OciRef:
    """An image or artifact in an OCI registry; `reference` is the digest when the uri has one, else the tag."""

    registry: str  # the host, lowercased (docker.io for Docker Hub and its aliases): what credentials are filed under
    repository: str
    reference: str

    @property
    def is_digest(self) -> bool:
        return self.reference.startswith("sha256:")

    @property
    def name(self) -> str:
        """registry/repo:tag or registry/repo@digest, for messages."""
        return f"{self.registry}/{self.repository}{'@' if self.is_digest else ':'}{self.reference}"


SourceRef = HubRef | BucketRef | LocalRef | OciRef


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
        raise LoaderError(
            Reason.INVALID_SOURCE,
            "pvc:// sources are mounted by the operator, not fetched: "
            "the plan must use mode verify, or fetch from file:///model-source/<path>",
        )
    if scheme == "oci":
        return _oci(rest)
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


def _oci(rest: str) -> OciRef:
    body, at, digest = rest.partition("@")
    if at and not _OCI_DIGEST.fullmatch(digest):
        raise _invalid_oci(f"{digest!r} after @ is not a sha256 digest")
    first, slash, remainder = body.partition("/")
    # As docker reads a name: the first component is a registry only if it looks like a host.
    if slash and ("." in first or ":" in first or first == "localhost"):
        if not _OCI_HOST.fullmatch(first):
            raise _invalid_oci(f"{first!r} is not a registry host[:port]")
        registry, path = first.lower(), remainder
    else:
        registry, path = DOCKER_HUB, body
    repository, colon, tag = path.partition(":")
    if colon and not _OCI_TAG.fullmatch(tag):
        raise _invalid_oci(f"{tag!r} is not a tag (letters, digits, _ . -, at most 128)")
    components = repository.split("/")
    if not all(_OCI_COMPONENT.fullmatch(c) for c in components):
        raise _invalid_oci(
            f"{repository!r} is not a repository (lowercase components of letters and digits "
            "separated by . _ __ or -, joined by /)"
        )
    if registry in DOCKER_HUB_ALIASES:
        registry = DOCKER_HUB
        if len(components) == 1:  # Docker Hub's official images live under library/
            repository = f"library/{repository}"
    return OciRef(registry, repository, digest or tag or "latest")


def without_revision(uri: str) -> str:
    """The source a cache directory holds, whatever its revision: what pruning groups by."""
    if uri.startswith("hf://"):
        return uri.partition("@")[0]
    if uri.startswith("oci://"):
        ref = parse_source(uri)
        return f"oci://{ref.registry}/{ref.repository}" if isinstance(ref, OciRef) else uri
    return uri


def revision_of(uri: str) -> str | None:
    if uri.startswith("hf://"):
        return uri.partition("@")[2] or None
    if uri.startswith("oci://"):
        ref = parse_source(uri)
        return ref.reference if isinstance(ref, OciRef) else None
    return None


def _invalid(uri: str, why: str) -> LoaderError:
    return LoaderError(Reason.INVALID_SOURCE, f"cannot read the uri: {why}; write {SUPPORTED}")


def _invalid_oci(why: str) -> LoaderError:
    return LoaderError(Reason.INVALID_SOURCE, f"cannot read the oci uri: {why}; write {OCI_FORM}")
