"""oci:// from an OCI registry (distribution spec v2): the manifest of the tag or digest (from an index or a
manifest list, the one for linux and this machine's architecture), whose layers become files. A layer with an
org.opencontainers.image.title annotation is that file (ORAS artifacts); an untitled tar layer is unpacked into
dest (images built FROM scratch with the model copied in), as is an ORAS directory. Blobs are downloaded
resumably and checked against their digest; redirects to a CDN never carry the registry's Authorization
(http_transport). Hosts listed in OCI_PLAIN_HTTP_REGISTRIES are spoken to over plain HTTP; credentials and
tokens are oci_auth.py's."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from genai_model_loader.download import download
from genai_model_loader.errors import LoaderError, Reason
from genai_model_loader.http_transport import HttpStatusError, build_request, read_body
from genai_model_loader.limits import UNPACK_RATIO_ENV, UNPACK_SLACK_ENV, from_env
from genai_model_loader.oci_auth import ChallengeError, RegistryAuth, load_credentials
from genai_model_loader.oci_layers import UnpackTooLargeError, is_tar, unpack_layer
from genai_model_loader.oci_manifests import (
    INDEXES,
    MANIFESTS,
    architecture,
    explain_registry_error,
    media_type,
    pick_platform,
)
from genai_model_loader.progress import FileProgress, format_bytes
from genai_model_loader.remote_files import RESERVED_PREFIX, FetchedFile, Listing, RemoteFile, checked_relative
from genai_model_loader.retry import RetryPolicy
from genai_model_loader.source_uris import DOCKER_HUB, OciRef
from genai_model_loader.transfer import Transfer

log = logging.getLogger(__name__)
T = TypeVar("T")
DOCKER_HUB_HOST = "registry-1.docker.io"
TITLE = "org.opencontainers.image.title"
ORAS_UNPACK = "io.deis.oras.content.unpack"  # ORAS packs a pushed directory as a tar titled with its name
SHA256_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
LAYER_FILE = f"{RESERVED_PREFIX}oci-layer-"  # where an image layer's blob waits (and resumes) until it is unpacked


@dataclass(frozen=True)
class _Blob:
    digest: str
    unpack: bool
    prefix: str | None = None  # an ORAS directory's entries all lie under its title


class OciSource:
    default_filter = False

    def __init__(
        self, ref: OciRef, item_name: str, env: Mapping[str, str], policy: RetryPolicy, transfer: Transfer | None = None
    ) -> None:
        self.ref = ref
        self.transfer = transfer or Transfer()
        self.auth_lock = threading.Lock()  # files side by side may be challenged together: one answers
        self.item_name = item_name
        self.policy = policy
        self.limits = from_env(env)
        host = DOCKER_HUB_HOST if ref.registry == DOCKER_HUB else ref.registry
        plain = frozenset(h.strip().lower() for h in env.get("OCI_PLAIN_HTTP_REGISTRIES", "").split(",") if h.strip())
        scheme = "http" if host in plain or ref.registry in plain else "https"
        self.base = f"{scheme}://{host}/v2/{ref.repository}"
        self.hint = f"check that the pod reaches {host} (DNS, proxy, NetworkPolicy egress)" + (
            "; a registry served over plain HTTP must be listed in OCI_PLAIN_HTTP_REGISTRIES"
            if scheme == "https"
            else ""
        )
        credentials, self.why_anonymous = load_credentials(env, ref.registry)
        self.auth = RegistryAuth(ref, credentials, plain, policy, item_name, self.limits.max_metadata_bytes)
        self.architecture = architecture()
        self.blobs: dict[str, _Blob] = {}  # path under dest -> its blob, filled by list_files
        self.concurrent_files = False  # image layers unpack in order (a later layer's copy wins); set by list_files
        self.unpack_budget = 0  # what all image layers together may still unpack to, set by list_files

    def list_files(self) -> Listing:
        manifest, digest = self._manifest(self.ref.reference)
        if media_type(manifest) in INDEXES:
            chosen = pick_platform(manifest, self.architecture, self.ref.name)
            if not SHA256_DIGEST.fullmatch(chosen):
                raise LoaderError(
                    Reason.INVALID_SOURCE,
                    f"the index {self.ref.name} lists the manifest {chosen!r}; only sha256 digests are supported",
                )
            log.info("%s: %s is an index; taking %s", self.item_name, self.ref.name, chosen)
            manifest, _ = self._manifest(chosen)
        kind = media_type(manifest)
        if kind not in MANIFESTS:
            raise LoaderError(
                Reason.INVALID_SOURCE,
                f"{self.ref.name} is a {kind or 'manifest of unknown type'}; "
                "the loader reads OCI image manifests and Docker v2 manifests (push it again with a "
                "current client)",
            )
        files = [self._file(layer) for layer in manifest.get("layers") or [] if isinstance(layer, dict)]
        usable = [f for f in files if f is not None]
        if not usable:
            raise LoaderError(
                Reason.NO_MODEL_FILES,
                f"the manifest of {self.ref.name} has no layer to fetch (files "
                f"titled with the {TITLE} annotation, or tar image layers)",
            )
        packed = sum(f.size or 0 for f in usable if self.blobs[f.path].unpack)
        self.unpack_budget = self.limits.unpack_cap(packed)  # one slack for the model, not one per layer
        self.concurrent_files = not any(self.blobs[f.path].unpack for f in usable)
        log.info("%s: %s is %s (%d layers)", self.item_name, self.ref.name, digest, len(usable))
        return Listing(tuple(usable), revision=self.ref.reference, resolved_sha=digest)

    def fetch(self, file: RemoteFile, target: Path, progress: FileProgress) -> FetchedFile:
        blob = self.blobs[file.path]
        url = f"{self.base}/blobs/{blob.digest}"
        fetched = self._authorized(
            lambda: download(
                partial(self._request, url),
                file,
                target,
                progress,
                self.policy,
                self._explain,
                self.hint,
                transfer=self.transfer,
            )
        )
        if not blob.unpack:
            return fetched
        layer_cap = self.limits.unpack_cap(file.size or 0)
        cap = min(layer_cap, self.unpack_budget)
        label = f"the layer {blob.digest}"
        try:
            unpacked = unpack_layer(target, target.parent, label, cap, blob.prefix)
        except UnpackTooLargeError:
            raise LoaderError(
                Reason.INVALID_SOURCE,
                f"{label} unpacks to more than {format_bytes(cap)} ("
                f"{'its' if cap == layer_cap else 'with the earlier layers, the image'} limit: "
                f"{self.limits.unpack_ratio:g}x the listed size plus "
                f"{format_bytes(self.limits.unpack_slack)}); refused as a decompression bomb, and "
                f"nothing more of it is written; if the image is genuine, raise {UNPACK_RATIO_ENV} "
                f"or {UNPACK_SLACK_ENV}",
            ) from None
        finally:
            target.unlink()
        self.unpack_budget -= sum(f.size for f in unpacked)
        log.info("%s: unpacked %d files from the layer %s", self.item_name, len(unpacked), blob.digest)
        return replace(fetched, unpacked=tuple(unpacked))

    def _file(self, layer: dict[str, Any]) -> RemoteFile | None:
        media, digest, size = str(layer.get("mediaType", "")), str(layer.get("digest", "")), layer.get("size")
        raw = layer.get("annotations")
        annotations: dict[str, Any] = raw if isinstance(raw, dict) else {}
        title = annotations.get(TITLE) if isinstance(annotations.get(TITLE), str) else None
        packed = not title or annotations.get(ORAS_UNPACK) == "true"
        if packed and "zstd" in media:
            raise LoaderError(
                Reason.INVALID_SOURCE,
                f"the layer {digest} of {self.ref.name} is zstd-compressed "
                f"({media}), which the loader cannot unpack; build the image with gzip layers",
            )
        if not title and not is_tar(media):
            return None  # an empty descriptor, a signature, a config: nothing to put in dest
        if not SHA256_DIGEST.fullmatch(digest):  # also what keeps the blob's file name and URL plain
            raise LoaderError(
                Reason.INVALID_SOURCE,
                f"the layer digest {digest!r} of {self.ref.name} is not "
                "sha256:<64 hex>; only sha256 digests are supported",
            )
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            # Every limit (the download's length, the unpacked size) is measured from it; the spec requires it.
            raise LoaderError(
                Reason.INVALID_SOURCE,
                f"the layer {digest} of {self.ref.name} has no size; push it again with a current client",
            )
        unpack = packed and is_tar(media)
        path = f"{LAYER_FILE}{digest[7:]}" if unpack else checked_relative(str(title))
        if path in self.blobs:
            return None  # the same blob twice (or the same title): fetched once
        self.blobs[path] = _Blob(digest, unpack, checked_relative(title) if unpack and title else None)
        return RemoteFile(path, size, sha256=digest[7:])

    def _manifest(self, reference: str) -> tuple[dict[str, Any], str]:
        url = f"{self.base}/manifests/{reference}"
        what = (
            f"reading the manifest {self.ref.registry}/{self.ref.repository}{'@' if ':' in reference else ':'}"
            f"{reference}"
        )

        def get() -> tuple[bytes, str | None]:
            try:
                body, headers, _ = read_body(
                    partial(self._request, url, accept=", ".join(MANIFESTS + INDEXES)),
                    self.policy,
                    what,
                    self.hint,
                    self.limits.max_metadata_bytes,
                )
            except HttpStatusError as err:
                raise self._explain(err) from None
            return body, headers.get("Docker-Content-Digest")

        body, said = self._authorized(get)
        computed = f"sha256:{hashlib.sha256(body).hexdigest()}"
        if reference.startswith("sha256:") and computed != reference:
            raise LoaderError(
                Reason.CHECKSUM_MISMATCH,
                f"the manifest {reference} the registry sent has the digest "
                f"{computed}; check the registry (a proxy rewriting it?)",
            )
        try:
            manifest = json.loads(body)
        except ValueError:
            manifest = None
        if not isinstance(manifest, dict):
            raise LoaderError(Reason.INVALID_SOURCE, f"the manifest of {self.ref.name} is not a JSON object")
        return manifest, said or computed

    def _authorized(self, action: Callable[[], T]) -> T:
        """`action`, and once more after answering the registry's challenge (the first request, an expired token)."""
        header = self.auth.header
        try:
            return action()
        except ChallengeError as challenged:
            with self.auth_lock:
                if self.auth.header == header:  # not answered meanwhile by a file beside this one
                    self.auth.answer(challenged)
        return action()

    def _request(self, url: str, headers: Mapping[str, str], accept: str | None = None) -> urllib.request.Request:
        extra = dict(headers)
        if accept:
            extra["Accept"] = accept
        if self.auth.header:
            extra["Authorization"] = self.auth.header
        return build_request(url, extra)

    def _explain(self, err: HttpStatusError) -> LoaderError:
        final = explain_registry_error(
            err, self.ref, self.item_name, self.auth.credentials is not None, self.why_anonymous
        )
        challenge = err.headers.get("WWW-Authenticate")
        return ChallengeError(final, str(challenge)) if err.status == 401 and challenge else final
