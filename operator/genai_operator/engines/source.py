"""Where the weights come from: spec.model.uri parsed once, plus the volume and credentials each scheme needs.

Schemes and how a pod reaches them (engines/fetch.py turns this into the model-loader init container):
- hf://org/repo[/file.gguf][@revision]: fetched from the Hugging Face Hub by the loader into the cache
  volume; the token comes from the credentials Secret (key HF_TOKEN) by reference.
- s3://, gs://: fetched by the loader; credentials come from the Secret as environment variables
  (envFrom: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, ...; GCS HMAC keys for gs://).
- pvc://claim/path: the claim mounted read-only at /model-source.
- oci://registry/repo:tag (or @sha256:...): an OCI artifact (titled files, as ORAS pushes them) or an image
  whose layers hold the files. By default (settings.oci_models "Pull") the loader pulls it into the cache
  volume like any remote source, on any cluster; the credentials Secret, a kubernetes.io/dockerconfigjson,
  is mounted into the loader as a registry auth file. With "ImageVolume" the kubelet mounts it read-only at
  /model-source instead and the Secret becomes an imagePullSecret: no copy on the cache, but it needs
  Kubernetes 1.35+ (beta, on by default) or the ImageVolume feature gate on 1.31-1.34, and a runtime that
  supports it.
- file:///path: a hostPath mounted read-only at the same path, only under a directory the operator allows
  (engines/policy.py). hostPath volumes are forbidden by the 'baseline' and 'restricted' Pod Security
  levels, so this scheme also needs a privileged namespace.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

MOUNT = "/model-source"
VOLUME = "model-source"
AUTH_VOLUME = "registry-auth"
AUTH_DIR = "/var/run/secrets/genaiops.dev/registry"
AUTH_FILE = "config.json"
SCHEMES = ("hf", "s3", "gs", "oci", "pvc", "file")


class UnsupportedModelSourceError(ValueError):
    """The engine cannot load weights from this kind of URI; the message names the alternatives."""


@dataclass(frozen=True)
class ModelLocation:
    """spec.model.uri, resolved for a container."""

    uri: str
    scheme: str
    repo: str  # hf: org/repo; s3/gs: the full URI; pvc: claim; oci: image reference; file: host path
    path: str  # what the engine loads: repo id, remote URI or a path inside the container
    revision: str | None = None  # hf only
    file: str | None = None  # hf only: a file inside the repository (a .gguf for llama.cpp)
    volumes: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    mounts: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @property
    def downloads(self) -> bool:
        """Whether the loader copies the weights into the cache volume (so they need disk and download time)."""
        return self.scheme in ("hf", "s3", "gs") or (self.scheme == "oci" and not self.volumes)


def parse_model_uri(uri: str, *, oci_image_volume: bool = False) -> ModelLocation:
    scheme, sep, rest = uri.partition("://")
    if not sep or scheme not in SCHEMES or not rest:
        schemes = ", ".join(s + "://" for s in SCHEMES)
        raise UnsupportedModelSourceError(f"spec.model.uri {uri!r}: write one of {schemes}")
    if scheme == "hf":
        body, _, revision = rest.partition("@")
        parts = [p for p in body.split("/") if p]
        if len(parts) < 2:
            raise UnsupportedModelSourceError(f"spec.model.uri {uri!r}: write hf://org/model")
        repo = "/".join(parts[:2])
        file = "/".join(parts[2:]) or None
        return ModelLocation(uri, scheme, repo, repo, revision or None, file)
    if scheme in ("s3", "gs"):
        return ModelLocation(uri, scheme, uri, uri)
    if scheme == "pvc":
        claim, _, sub = rest.partition("/")
        volume = {"name": VOLUME, "persistentVolumeClaim": {"claimName": claim, "readOnly": True}}
        path = posixpath.join(MOUNT, sub) if sub else MOUNT
        return ModelLocation(uri, scheme, claim, path.rstrip("/"), volumes=(volume,), mounts=(_mount(MOUNT),))
    if scheme == "oci":
        if not oci_image_volume:
            return ModelLocation(uri, scheme, rest, uri)
        volume = {"name": VOLUME, "image": {"reference": rest, "pullPolicy": "IfNotPresent"}}
        return ModelLocation(uri, scheme, rest, MOUNT, volumes=(volume,), mounts=(_mount(MOUNT),))
    host_path = posixpath.normpath("/" + rest.lstrip("/"))
    volume = {"name": VOLUME, "hostPath": {"path": host_path}}
    return ModelLocation(uri, scheme, host_path, host_path, volumes=(volume,), mounts=(_mount(host_path),))


def credentials_env(location: ModelLocation, secret: str | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(env, envFrom) that hand the download credentials to the engine without the operator reading them.

    optional: false makes a missing Secret or key block the pod with a clear event instead of a silent
    anonymous download that fails later on a gated model.
    """
    if secret is None:
        return [], []
    if location.scheme == "hf":
        ref = {"name": secret, "key": "HF_TOKEN", "optional": False}
        return [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": ref}}], []
    if location.scheme in ("s3", "gs"):
        return [], [{"secretRef": {"name": secret, "optional": False}}]
    if location.scheme == "oci" and location.downloads:
        return [{"name": "REGISTRY_AUTH_FILE", "value": f"{AUTH_DIR}/{AUTH_FILE}"}], []
    return [], []


def registry_auth_volume(
    model: ModelLocation, adapters: list[ModelLocation], secret: str | None
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(volume, loader mount) of the dockerconfigjson Secret the loader pulls private OCI sources with.

    Required when the model itself is pulled from a registry (a Secret without the key then stops the pod
    with a clear event); optional when only adapters are, since the model's Secret may be a Hub token and
    the adapters public (the loader pulls anonymously when the file is absent)."""
    required = model.scheme == "oci" and model.downloads
    if secret is None or not (required or any(a.scheme == "oci" and a.downloads for a in adapters)):
        return None
    volume = {
        "name": AUTH_VOLUME,
        "secret": {
            "secretName": secret,
            "optional": not required,
            "items": [{"key": ".dockerconfigjson", "path": AUTH_FILE}],
        },
    }
    return volume, {"name": AUTH_VOLUME, "mountPath": AUTH_DIR, "readOnly": True}


def pull_secrets(location: ModelLocation, secret: str | None) -> list[dict[str, str]]:
    """imagePullSecrets for a private OCI model artifact the kubelet mounts as an image volume."""
    return [{"name": secret}] if secret and location.scheme == "oci" and not location.downloads else []


def _mount(path: str) -> dict[str, Any]:
    return {"name": VOLUME, "mountPath": path, "readOnly": True}
