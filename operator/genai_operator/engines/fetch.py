"""How weights reach the engine: the model-loader init container, the cache volume and the local paths.

Every source ends up as a local path, so engines never download and the init container is the one place
where fetching, retries, checksums and credentials live (the one exception: s3:// and gs:// weights vLLM streams
itself with spec.model.loadFormat Stream, engines/streaming.py):
- hf://, s3://, gs:// are fetched by our loader (images/loader) into /model-cache/<key>, on the pool's cache
  volume (an emptyDir, a shared ReadWriteMany claim or a per-replica node-local claim). The key hashes the
  URI with its revision, so a new revision is a new directory and a cached one is never fetched again;
- oci:// is pulled from its registry by the loader the same way (or, with settings.oci_models
  "ImageVolume", mounted by the kubelet as an image volume and only verified);
- pvc:// and file:// are mounted read-only where they are; the loader only verifies that model
  files are there, so a wrong path fails in the init container with a clear message instead of an engine
  stack trace.
A failing loader writes `<Reason>: <message>` to its termination log; the operator turns it into the
ModelLoaded condition. Credentials go to the init container only, as Secret references.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
from dataclasses import dataclass
from typing import Any

from genai_operator.api.cache import CacheMode
from genai_operator.api.enums import Engine
from genai_operator.engines.base import CACHE_DIR, SHM_DIR, TMP_DIR, EngineContext
from genai_operator.engines.policy import under
from genai_operator.engines.resources import adapter_disk_bytes, checkpoint_bytes
from genai_operator.engines.source import (
    AUTH_DIR,
    ModelLocation,
    UnsupportedModelSourceError,
    credentials_env,
    parse_model_uri,
    pull_secrets,
    registry_auth_volume,
)
from genai_operator.formats.dns_names import cache_claim_name
from genai_operator.formats.quantity import GIB, gi_quantity

LOADER_CONTAINER = "model-loader"
CACHE_VOLUME = "model-cache"
CACHE_MOUNT = "/model-cache"
ADAPTER_MOUNT = "/adapter-source"
GGUF_LINK = "model.gguf"  # the loader links the (first part of the) picked GGUF file here
LOADER_RESOURCES: dict[str, Any] = {
    "requests": {"cpu": "250m", "memory": "256Mi"},
    "limits": {"memory": "1Gi"},  # files are streamed to disk in chunks; memory stays flat
}
KEY_HASH = 12
SLUG_MAX = 40
# Paths our containers mount for themselves: a file:// model mounted at (or over, or under) one of them
# would be a duplicate mountPath the API server rejects, or would hide what the engine needs.
RESERVED_PATHS = (CACHE_MOUNT, ADAPTER_MOUNT, CACHE_DIR, TMP_DIR, SHM_DIR, AUTH_DIR, "/dev/termination-log")


@dataclass(frozen=True)
class ModelFiles:
    """The engine's view of the weights once the init container has run."""

    location: ModelLocation
    model_path: str  # a directory (safetensors), a .gguf file, or the bucket URI vLLM streams from
    adapters: tuple[tuple[str, str], ...]  # (served name, local path)
    init_container: dict[str, Any] | None  # the model loader; None when nothing is fetched or verified
    volumes: tuple[dict[str, Any], ...]  # pod volumes (the NodeLocal claim comes from the StatefulSet)
    mounts: tuple[dict[str, Any], ...]  # the engine's read-only mounts
    fetched: bool  # the weights are copied to the cache volume (so they take its space and download time)
    image_pull_secrets: tuple[dict[str, str], ...] = ()
    streamed: bool = False  # the engine streams the weights from the bucket itself (engines/streaming.py)


def cache_key(uri: str, *, file: str | None = None, gguf_type: str | None = None) -> str:
    """A directory name per (uri incl. revision, file pick): readable slug plus a hash of the whole source."""
    source = "|".join((uri, file or "", gguf_type or ""))
    digest = hashlib.sha256(source.encode()).hexdigest()[:KEY_HASH]
    body = uri.partition("://")[2].partition("@")[0].rstrip("/")
    slug = re.sub(r"[^a-z0-9]+", "-", posixpath.basename(body).lower()).strip("-")[:SLUG_MAX].strip("-")
    return f"{slug or 'model'}-{digest}"


def model_location(ctx: EngineContext) -> ModelLocation:
    """spec.model.uri as this operator serves it (oci:// pulled or mounted, by settings.oci_models)."""
    return parse_model_uri(ctx.spec.model.uri, oci_image_volume=ctx.settings.oci_models == "ImageVolume")


def plan_model_files(ctx: EngineContext, *, gguf: bool, streamed: bool = False) -> ModelFiles:
    """The loader plan, volumes and paths for the spec's model and adapters on this pool.

    gguf: the engine loads one .gguf file (llama.cpp); otherwise a checkpoint directory.
    streamed: the engine streams the model from its bucket (engines/streaming.py): the loader, and the cache
    volume, are there only for adapters to fetch. Any other engine refuses spec.model.loadFormat Stream.
    """
    if ctx.spec.model.streamed and not streamed:
        raise UnsupportedModelSourceError(
            f"{ctx.name}: spec.model.loadFormat Stream is served by vLLM, but pool {ctx.pool.name} runs "
            f"{ctx.assignment.engine.value}: set engine VLLM (and place the model on GPU pools), or set "
            "spec.model.loadFormat: Copy"
        )
    location = model_location(ctx)
    items: list[dict[str, Any]] = []
    volumes: list[dict[str, Any]] = []
    engine_mounts: list[dict[str, Any]] = []
    loader_mounts: list[dict[str, Any]] = [
        {"name": CACHE_VOLUME, "mountPath": CACHE_MOUNT},
        {"name": "tmp", "mountPath": TMP_DIR},
    ]
    if streamed:
        model_path = location.uri
    elif location.downloads:
        gguf_type = ctx.gguf_type.value if gguf and not location.file else None
        key = cache_key(location.uri, file=location.file, gguf_type=gguf_type)
        dest = posixpath.join(CACHE_MOUNT, key)
        item = fetch_item(ctx, "model", location.uri, dest)
        if ctx.pool.cache.mode != CacheMode.NONE:
            item["keep"] = ctx.pool.cache.keep_revisions  # older revisions of this model leave the claim
            # Pruning spares revisions other ModelDeployments on the same claim (a claim is namespaced) still use.
            item["owner"] = ctx.name
        if location.file:
            item["file"] = location.file
        if gguf_type:
            item["ggufType"] = gguf_type
        if gguf:
            item["link"] = GGUF_LINK
        items.append(item)
        model_path = posixpath.join(dest, GGUF_LINK) if gguf else dest
    else:
        if location.scheme == "file":
            _check_host_mount(location.path)
        volumes += location.volumes
        engine_mounts += location.mounts
        loader_mounts += location.mounts
        if gguf and not location.path.endswith(".gguf"):
            raise UnsupportedModelSourceError(
                f"{ctx.name}: llama.cpp loads one .gguf file; write the file's path, e.g. "
                f"{location.uri.rstrip('/')}/model-Q4_K_M.gguf"
            )
        items.append({"name": "model", "uri": location.uri, "dest": location.path, "mode": "verify"})
        model_path = location.path
    adapters = []
    sources = [parse_model_uri(adapter.uri) for adapter in ctx.spec.adapters]
    for index, (adapter, source) in enumerate(zip(ctx.spec.adapters, sources, strict=True)):
        if source.downloads:
            dest = posixpath.join(CACHE_MOUNT, cache_key(source.uri))
            items.append(fetch_item(ctx, f"adapter:{adapter.name}", source.uri, dest))
        else:
            dest, volume, mount = _mounted_adapter(index, source)
            volumes.append(volume)
            engine_mounts.append(mount)
            loader_mounts.append(mount)
            items.append({"name": f"adapter:{adapter.name}", "uri": source.uri, "dest": dest, "mode": "verify"})
        adapters.append((adapter.name, dest))
    fetched = location.downloads and not streamed
    if items:
        if ctx.pool.cache.mode != CacheMode.NODE_LOCAL:
            disk = fetched_bytes(ctx, fetched=fetched) + scratch_bytes(ctx, fetched=fetched)
            volumes.insert(0, cache_volume(ctx, disk))
        engine_mounts.insert(0, {"name": CACHE_VOLUME, "mountPath": CACHE_MOUNT, "readOnly": True})
    auth = registry_auth_volume(location, sources, ctx.credentials)
    if auth is not None and items:  # only the loader mounts the registry credentials
        volumes.append(auth[0])
        loader_mounts.append(auth[1])
    env, env_from = _credentials(ctx.credentials, items)
    return ModelFiles(
        location=location,
        model_path=model_path,
        adapters=tuple(adapters),
        init_container=loader_container(ctx, items, loader_mounts, env, env_from) if items else None,
        volumes=tuple(volumes),
        mounts=tuple(engine_mounts),
        fetched=fetched,
        image_pull_secrets=tuple(pull_secrets(location, ctx.credentials)),
        streamed=streamed,
    )


def fetch_item(ctx: EngineContext, name: str, uri: str, dest: str) -> dict[str, Any]:
    """One plan item the loader downloads, over the connections the spec or the pool asks for."""
    item: dict[str, Any] = {"name": name, "uri": uri, "dest": dest, "mode": "fetch"}
    if ctx.download_connections is not None:
        item["connections"] = ctx.download_connections
    return item


def _check_host_mount(path: str) -> None:
    clash = next((r for r in RESERVED_PATHS if under(path, r) or under(r, path)), None)
    if clash is not None:
        raise UnsupportedModelSourceError(
            f"spec.model.uri: file://{path} would be mounted at {path}, which overlaps {clash} that the "
            "operator's containers use; keep edge models in a directory of their own, e.g. file:///opt/models/..."
        )


def _credentials(secret: str | None, items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """What every fetched source needs from the one Secret (an hf model with s3 adapters needs both kinds)."""
    env: list[dict[str, Any]] = []
    env_from: list[dict[str, Any]] = []
    for item in items:
        if item["mode"] != "fetch":
            continue
        more_env, more_from = credentials_env(parse_model_uri(item["uri"]), secret)
        env += [e for e in more_env if e not in env]
        env_from += [e for e in more_from if e not in env_from]
    return env, env_from


def _mounted_adapter(index: int, source: ModelLocation) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """An adapter on a claim or a host path gets a volume of its own (the model's is /model-source)."""
    name = f"adapter-{index}"
    mount_path = posixpath.join(ADAPTER_MOUNT, str(index))
    if source.scheme == "pvc":
        volume = {"name": name, "persistentVolumeClaim": {"claimName": source.repo, "readOnly": True}}
        sub = source.path.removeprefix("/model-source").lstrip("/")
        dest = posixpath.join(mount_path, sub) if sub else mount_path
    else:
        volume = {"name": name, "hostPath": {"path": source.path}}
        dest = mount_path
    return dest, volume, {"name": name, "mountPath": mount_path, "readOnly": True}


def fetched_bytes(ctx: EngineContext, *, fetched: bool) -> int:
    """Bytes the loader writes for one revision: the checkpoint (16 bit when quantized at load) and adapters."""
    at_load = ctx.assignment.engine != Engine.LLAMA_CPP  # llama.cpp fetches the quantized GGUF itself
    weights = checkpoint_bytes(ctx, quantizes_at_load=at_load) if fetched else 0
    return weights + adapter_disk_bytes(ctx)


def scratch_bytes(ctx: EngineContext, *, fetched: bool) -> int:
    """Room the loader needs beside what it keeps: an OCI image layer (a "modelcar" image) is on disk whole
    while it is unpacked, so a pulled oci:// model may briefly take its weights twice."""
    if not fetched or not ctx.spec.model.uri.startswith("oci://"):
        return 0
    return checkpoint_bytes(ctx, quantizes_at_load=ctx.assignment.engine != Engine.LLAMA_CPP)


def node_disk_bytes(ctx: EngineContext, files: ModelFiles) -> int:
    """Bytes the pod writes to the node's disk: the download, when the cache is the pod's own emptyDir."""
    if ctx.pool.cache.mode != CacheMode.NONE:
        return 0
    return fetched_bytes(ctx, fetched=files.fetched) + scratch_bytes(ctx, fetched=files.fetched)


def cache_claim_size(ctx: EngineContext) -> str:
    """The cache claim: the pool's size, or keepRevisions checkpoints plus 10%, room to unpack an OCI image
    layer, and 2 GiB of slack."""
    if ctx.pool.cache.size:
        return ctx.pool.cache.size
    per_revision = fetched_bytes(ctx, fetched=True)
    scratch = scratch_bytes(ctx, fetched=model_location(ctx).downloads)
    return gi_quantity(int(per_revision * ctx.pool.cache.keep_revisions * 1.1) + scratch + 2 * GIB)


def cache_volume(ctx: EngineContext, bytes_needed: int) -> dict[str, Any]:
    cache = ctx.pool.cache
    if cache.mode == CacheMode.SHARED:
        claim = cache.existing_claim or cache_claim_name(ctx.name, ctx.pool.name)
        return {"name": CACHE_VOLUME, "persistentVolumeClaim": {"claimName": claim}}
    # sizeLimit: a runaway download is evicted instead of filling the node's disk.
    return {"name": CACHE_VOLUME, "emptyDir": {"sizeLimit": gi_quantity(int(bytes_needed * 1.1) + GIB)}}


def loader_container(
    ctx: EngineContext,
    items: list[dict[str, Any]],
    mounts: list[dict[str, Any]],
    env: list[dict[str, Any]],
    env_from: list[dict[str, Any]],
) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": LOADER_CONTAINER,
        "image": ctx.settings.loader_image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["--plan", json.dumps(items, sort_keys=True, separators=(",", ":"))],
        "env": [{"name": "HF_HUB_DISABLE_TELEMETRY", "value": "1"}, *env],
    }
    if env_from:
        container["envFrom"] = env_from
    container.update(
        {
            "resources": LOADER_RESOURCES,
            "volumeMounts": mounts,
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "capabilities": {"drop": ["ALL"]},
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": True,
            },
            # The loader writes "<Reason>: <message>" here; the operator reads it into ModelLoaded.
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "FallbackToLogsOnError",
        }
    )
    return container
