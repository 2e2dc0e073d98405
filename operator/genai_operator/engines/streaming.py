"""vLLM streaming the weights from the bucket (spec.model.loadFormat Stream): no copy on disk first.

vLLM's `--load-format runai_streamer` reads the safetensors of an s3:// or gs:// model with the Run:ai Model
Streamer, many ranges at once, into a CPU buffer and on to GPU memory while the rest still arrives (checked
against the vLLM "Loading models with Run:ai Model Streamer" page and the streamer's usage and env-vars docs).
So the pod has no model-loader init container and no cache volume for the weights (the loader still fetches
adapters, when there are any), and the download is part of the engine's start: its startup budget grows by a
cold download while the Deployment's progress deadline stays what it was.

Credentials are handled the way the loader gets them: the credentialsSecret by reference, all its keys in the
engine's environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AWS_REGION...), never read by
the operator. For S3-compatible stores the Secret also carries RUNAI_STREAMER_S3_USE_VIRTUAL_ADDRESSING=0 (the
streamer's path-style switch). gs:// with a Secret means GCS HMAC keys, as for the loader: the streamer then
uses its S3 backend against storage.googleapis.com. gs:// without a Secret uses its GCS backend with the
node's or the workload identity's credentials. The download's connections become the streamer's concurrency.
"""

from __future__ import annotations

from typing import Any

from genai_operator.engines.base import EngineContext
from genai_operator.engines.fetch import ModelFiles, plan_model_files
from genai_operator.engines.resources import checkpoint_bytes
from genai_operator.engines.source import credentials_env
from genai_operator.formats.quantity import GIB

LOAD_FORMAT = "runai_streamer"
CONCURRENCY_ENV = "RUNAI_STREAMER_CONCURRENCY"
MEMORY_LIMIT_ENV = "RUNAI_STREAMER_MEMORY_LIMIT"
# Unbounded by default, the streamer's CPU buffer holds a whole safetensors file per process; bounded, it is reused.
# Each tensor-parallel rank streams its share through its own buffer, within the host memory a replica requests
# per GPU (engines/resources.py), and the buffer must hold the largest tensor (a 405B model's 16-bit embeddings).
MEMORY_LIMIT_BYTES = 4 * GIB
GCS_ENDPOINT = "https://storage.googleapis.com"
# GCS through its S3-compatible XML API with HMAC keys (the streamer's documented recipe).
GCS_HMAC_ENV = {
    "RUNAI_STREAMER_OVERRIDE_OBJ_PLUGIN": "s3",
    "AWS_ENDPOINT_URL": GCS_ENDPOINT,
    "AWS_EC2_METADATA_DISABLED": "true",
    "RUNAI_STREAMER_S3_USE_VIRTUAL_ADDRESSING": "0",
}


def streamed_files(ctx: EngineContext) -> ModelFiles:
    """The model as vLLM streams it: its bucket URI, plus adapters the loader fetches (if any)."""
    return plan_model_files(ctx, gguf=False, streamed=True)


def streamer_args() -> list[str]:
    return ["--load-format", LOAD_FORMAT]


def streamer_env(ctx: EngineContext, files: ModelFiles) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """(plain variables, envFrom) of the engine: the streamer's settings and the Secret by reference."""
    _, env_from = credentials_env(files.location, ctx.credentials)
    values: dict[str, str] = {MEMORY_LIMIT_ENV: str(MEMORY_LIMIT_BYTES)}
    if files.location.scheme == "gs" and ctx.credentials:
        values.update(GCS_HMAC_ENV)
    if ctx.download_connections is not None:
        values[CONCURRENCY_ENV] = str(ctx.download_connections)
    return values, env_from


def streamed_bytes(ctx: EngineContext, files: ModelFiles) -> int:
    """What the engine downloads while it loads: the checkpoint (16 bit when vLLM quantizes at load)."""
    return checkpoint_bytes(ctx, quantizes_at_load=True) if files.streamed else 0
