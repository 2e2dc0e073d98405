"""How the weights reach a replica: the download's parallel connections, and copying or streaming them.

`spec.model.download.connections` (a ModelDeployment) and `spec.download.connections` (a PlacementPool, the
default for models placed there) set how many connections the model loader opens for one download; the
ModelDeployment wins, else the pool, else the loader's own default (LOADER_CONNECTIONS).

`spec.model.loadFormat: Stream` skips the copy to disk: vLLM reads the safetensors straight from the bucket into
GPU memory with the Run:ai Model Streamer (`--load-format runai_streamer`), which only reads object stores (s3://,
gs://) and only exists in vLLM, so other sources and engines are refused with the fix. The same rules run in
Python (`check_load_format`) so the CLI and the operator reject what `kubectl apply` rejects, with the same message.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from genai_operator.api.base import ApiModel
from genai_operator.api.cel import rule
from genai_operator.api.enums import Engine

# The loader refuses more (past this more connections are no longer faster, only hard on the server).
CONNECTIONS_MAX = 64
STREAM_SCHEMES = ("s3://", "gs://")
STREAM_ENGINES = (Engine.AUTO, Engine.VLLM)


class LoadFormat(StrEnum):
    COPY = "Copy"  # the model loader copies the weights to the cache volume; the engine reads local files
    STREAM = "Stream"  # vLLM streams them from the bucket into GPU memory (Run:ai Model Streamer)


class Download(ApiModel):
    """How the model loader fetches weights."""

    connections: int | None = Field(
        default=None,
        ge=1,
        le=CONNECTIONS_MAX,
        description="Parallel connections of one download (large files in ranged parts, files side by side); with "
        "loadFormat Stream, the streamer's concurrency (RUNAI_STREAMER_CONCURRENCY). Unset: the pool's "
        "download.connections, else the loader's default (8).",
    )


MSG_STREAM_SOURCE = (
    "spec.model.loadFormat Stream reads object stores only: use an s3:// or gs:// spec.model.uri, or set "
    "loadFormat: Copy"
)
MSG_STREAM_ENGINE = (
    "spec.model.loadFormat Stream is served by vLLM (the Run:ai Model Streamer): set engine to VLLM or Auto, or "
    "set spec.model.loadFormat: Copy"
)

SOURCE_RULES: tuple[dict[str, Any], ...] = (
    rule(
        "!has(self.loadFormat) || self.loadFormat != 'Stream' || "
        + " || ".join(f"self.uri.startsWith('{scheme}')" for scheme in STREAM_SCHEMES),
        MSG_STREAM_SOURCE,
        field_path=".loadFormat",
    ),
)
SPEC_RULES: tuple[dict[str, Any], ...] = (
    rule(
        "!has(self.model.loadFormat) || self.model.loadFormat != 'Stream' || self.engine in "
        + "["
        + ", ".join(f"'{engine.value}'" for engine in STREAM_ENGINES)
        + "]",
        MSG_STREAM_ENGINE,
        field_path=".model.loadFormat",
    ),
)


def check_stream_source(uri: str, load_format: LoadFormat) -> str | None:
    """The SOURCE_RULES message the source breaks, or None."""
    if load_format == LoadFormat.STREAM and not uri.startswith(STREAM_SCHEMES):
        return MSG_STREAM_SOURCE
    return None


def check_load_format(load_format: LoadFormat, engine: Engine) -> str | None:
    """The SPEC_RULES message the spec breaks, or None."""
    if load_format == LoadFormat.STREAM and engine not in STREAM_ENGINES:
        return MSG_STREAM_ENGINE
    return None
