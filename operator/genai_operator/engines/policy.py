"""The platform team's limits on what a ModelDeployment may ask of the nodes: host paths and engine images.

Whoever may create a ModelDeployment in a namespace must not gain what creating pods with hostPath
volumes or arbitrary images would give them (DESIGN: the operator's pods are its own, not the user's):
- file:// mounts a node directory into the pods. Only paths under settings.host_path_prefixes
  (GENAI_OPERATOR_HOST_PATH_PREFIXES, chart value security.hostPathPrefixes) are allowed, and none by
  default, so `file:///etc/kubernetes/pki` or `file:///` is refused rather than left to Pod Security
  admission, which an unlabelled (privileged) namespace does not apply.
- spec.serving.image, when settings.image_registries (GENAI_OPERATOR_ALLOWED_IMAGE_REGISTRIES, chart value
  security.allowedImageRegistries) is set, must come from one of them. Pool and operator-wide images are
  the platform team's own and are not checked.
"""

from __future__ import annotations

import posixpath

from genai_operator.api.modeldeployment import ModelDeploymentSpec
from genai_operator.engines.source import parse_model_uri
from genai_operator.settings import ENV_PREFIX, Settings

HOST_PATHS_SETTING = f"{ENV_PREFIX}HOST_PATH_PREFIXES (chart value security.hostPathPrefixes)"
REGISTRIES_SETTING = f"{ENV_PREFIX}ALLOWED_IMAGE_REGISTRIES (chart value security.allowedImageRegistries)"
DOCKER_HUB = "docker.io"


class PolicyError(ValueError):
    """The spec asks for something the operator's settings do not allow; the message names both."""


def check_policy(spec: ModelDeploymentSpec, settings: Settings) -> None:
    sources = [("spec.model.uri", spec.model.uri)]
    sources += [(f"spec.adapters[{i}].uri", a.uri) for i, a in enumerate(spec.adapters)]
    for field, uri in sources:
        if uri.startswith("file://"):
            path = parse_model_uri(uri).repo  # normalised as it is mounted: `..` cannot climb out
            if not any(under(path, prefix) for prefix in settings.host_path_prefixes):
                allowed = ", ".join(settings.host_path_prefixes) or "none"
                raise PolicyError(
                    f"{field}: host path {path} is not under a directory the operator allows "
                    f"(allowed: {allowed}; set by {HOST_PATHS_SETTING})"
                )
    image = spec.serving.image
    if image and settings.image_registries and not any(from_registry(image, r) for r in settings.image_registries):
        raise PolicyError(
            f"spec.serving.image: {image} is not from an allowed registry "
            f"({', '.join(settings.image_registries)}; set by {REGISTRIES_SETTING})"
        )


def under(path: str, prefix: str) -> bool:
    """Whether `path` is `prefix` or inside it, by whole path segments (/models-x is not under /models)."""
    prefix = posixpath.normpath(prefix)
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")


def from_registry(image: str, allowed: str) -> bool:
    """Whether the image reference starts with `allowed` (a registry host, or host/path) by whole segments;
    images without a registry host are Docker Hub's, as the container runtime resolves them."""
    first = image.split("/", 1)[0]
    if "/" not in image:
        image = f"{DOCKER_HUB}/library/{image}"
    elif not ("." in first or ":" in first or first == "localhost"):
        image = f"{DOCKER_HUB}/{image}"
    allowed = allowed.rstrip("/")
    return image == allowed or image.startswith(allowed + "/")
