"""The loader's bounds against a hostile or broken source, each settable from the environment: how far an image
layer may unpack beyond its listed size, how large a manifest or listing page may be, how many pages a listing
may have; and how many connections a download opens and how large its ranged parts are. The pod's memory limit and
the cache volume are small next to what a source can claim to send."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from genai_model_loader.errors import PlanError

MIB = 1 << 20
N = TypeVar("N", int, float)


@dataclass(frozen=True)
class Limits:
    # An image layer (and all of a model's layers together) may unpack to its listed, compressed size times
    # this plus unpack_slack: model weights barely compress, tokenizers and configs are small.
    unpack_ratio: float = 4.0
    unpack_slack: int = 256 * MIB
    # A manifest, a token answer or one page of a listing is read into memory: this much at most.
    max_metadata_bytes: int = 16 * MIB
    # Pages of one listing (1000 entries each on the Hub and S3).
    max_list_pages: int = 1000
    # Connections one item downloads over at once (files side by side, large files in ranged parts): CDNs cap each
    # connection far below the link, so one stream per file leaves most of it idle.
    connections: int = 8
    # The largest ranged part of a file; a large file is cut into at least `connections` parts of this or less.
    part_bytes: int = 64 * MIB

    def unpack_cap(self, listed: int) -> int:
        """The most bytes an archive listed at `listed` bytes may unpack to."""
        return int(listed * self.unpack_ratio) + self.unpack_slack


# The environment variables that set them (also named in the messages of a limit hit).
UNPACK_RATIO_ENV = "LOADER_UNPACK_RATIO"
UNPACK_SLACK_ENV = "LOADER_UNPACK_SLACK_BYTES"
METADATA_ENV = "LOADER_MAX_METADATA_BYTES"
PAGES_ENV = "LOADER_MAX_LIST_PAGES"
CONNECTIONS_ENV = "LOADER_CONNECTIONS"
PART_BYTES_ENV = "LOADER_PART_BYTES"
# More connections than this is no longer faster, only hard on the server (and on the pod's thread count).
MAX_CONNECTIONS = 64


def from_env(env: Mapping[str, str]) -> Limits:
    """The limits, defaults overridden by the environment; a value that is not a positive number is a PlanError
    (the operator set it, so the pod spec is what to fix)."""
    default = Limits()
    return Limits(
        unpack_ratio=_positive(env, UNPACK_RATIO_ENV, default.unpack_ratio, float),
        unpack_slack=_positive(env, UNPACK_SLACK_ENV, default.unpack_slack, int),
        max_metadata_bytes=_positive(env, METADATA_ENV, default.max_metadata_bytes, int),
        max_list_pages=_positive(env, PAGES_ENV, default.max_list_pages, int),
        connections=check_connections(_positive(env, CONNECTIONS_ENV, default.connections, int), CONNECTIONS_ENV),
        part_bytes=_positive(env, PART_BYTES_ENV, default.part_bytes, int),
    )


def check_connections(value: int, where: str) -> int:
    if value > MAX_CONNECTIONS:
        raise PlanError(f"{where} must be at most {MAX_CONNECTIONS}, not {value}")
    return value


def _positive(env: Mapping[str, str], name: str, default: N, kind: Callable[[str], N]) -> N:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = kind("0")
    if not 0 < value < float("inf"):  # also NaN
        raise PlanError(f"{name} must be a positive {'integer' if kind is int else 'number'}, not {raw!r}")
    return value
