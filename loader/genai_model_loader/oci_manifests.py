"""What a registry's JSON says: which manifest of an index or manifest list this machine runs (linux on its
architecture), what kind of document a manifest is, and the distribution spec's error bodies turned into
termination-log lines naming the reference and the fix."""

from __future__ import annotations

import json
import platform
from typing import Any

from genai_model_loader.errors import LoaderError, Reason, credentials_field
from genai_model_loader.http_transport import HttpStatusError
from genai_model_loader.source_uris import OciRef

MANIFESTS = ("application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json")
INDEXES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")


def pick_platform(index: dict[str, Any], arch: str, name: str) -> str:
    """The digest of the entry for linux on `arch`, else of one without a platform, else of the first."""
    entries = [e for e in index.get("manifests") or [] if isinstance(e, dict) and isinstance(e.get("digest"), str)]
    if not entries:
        raise LoaderError(Reason.NO_MODEL_FILES, f"the index {name} lists no manifests")
    platforms = [e.get("platform") if isinstance(e.get("platform"), dict) else None for e in entries]
    for entry, where in zip(entries, platforms, strict=True):
        if where and where.get("os") == "linux" and where.get("architecture") == arch:
            return str(entry["digest"])
    unplatformed = [entry for entry, where in zip(entries, platforms, strict=True) if where is None]
    return str((unplatformed or entries)[0]["digest"])


def architecture(machine: str | None = None) -> str:
    """This machine's architecture as image platforms name it."""
    name = (machine or platform.machine()).lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(name, name)


def media_type(manifest: dict[str, Any]) -> str:
    """Its mediaType, which OCI makes optional: then what its fields say it is."""
    media = manifest.get("mediaType")
    if isinstance(media, str) and media:
        return media
    if isinstance(manifest.get("manifests"), list):
        return INDEXES[0]
    return MANIFESTS[0] if isinstance(manifest.get("layers"), list) else ""


def explain_registry_error(
    err: HttpStatusError, ref: OciRef, item_name: str, has_credentials: bool, why_anonymous: str
) -> LoaderError:
    code = f" ({registry_code(err)})" if registry_code(err) else ""
    said = f"the registry answered {err.status}{code}"
    cred = credentials_field(item_name)
    if err.status == 401 and has_credentials:
        return LoaderError(
            Reason.UNAUTHORIZED,
            f"{said}: the credentials were refused; check the entry for {ref.registry} in the Secret that {cred} names",
        )
    if err.status == 401:
        return LoaderError(
            Reason.UNAUTHORIZED,
            f"{said}; set {cred} to a kubernetes.io/dockerconfigjson Secret "
            f"that can pull {ref.registry}/{ref.repository} ({why_anonymous}; registries also answer "
            "401 for a repository that does not exist: check the name)",
        )
    if err.status == 403:
        return LoaderError(
            Reason.FORBIDDEN,
            f"{said}: the credentials may not pull {ref.registry}/{ref.repository}; "
            f"give them pull access, or put credentials that have it in the Secret that {cred} names",
        )
    if err.status == 404 and "/blobs/" in err.url:
        return LoaderError(
            Reason.NOT_FOUND,
            f"{said} for the blob {err.url.rsplit('/', 1)[-1]} that the manifest of {ref.name} lists; push it again",
        )
    if err.status == 404:
        return LoaderError(
            Reason.NOT_FOUND,
            f"{said}: {ref.name} not found; check the repository and the "
            "tag or digest (private repositories may answer 404 without credentials)",
        )
    return LoaderError(Reason.NETWORK_ERROR, f"{said} for {err.url}; check the uri")


def registry_code(err: HttpStatusError) -> str | None:
    """The first error code of the distribution spec's error body: MANIFEST_UNKNOWN, NAME_UNKNOWN, DENIED..."""
    try:
        errors = json.loads(err.body).get("errors")
        code = errors[0].get("code") if isinstance(errors, list) and errors and isinstance(errors[0], dict) else None
    except (ValueError, AttributeError):
        return None
    return str(code)[:60] if code else None
