"""What every source lists and fetches: the files of a model with the sizes and checksums the source vouches for."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from genai_model_loader.errors import LoaderError, Reason
from genai_model_loader.progress import FileProgress

# The loader's own files in dest (the completion marker, the manifest, a layer waiting to be unpacked) start with
# this; no source may name a file or directory so, or it could write a marker and fake a complete cache.
RESERVED_PREFIX = ".genai-"


@dataclass(frozen=True)
class RemoteFile:
    """A file of the source; `path` is relative, and is also where it lands under dest."""

    path: str
    size: int | None
    sha256: str | None = None
    md5: str | None = None
    git_sha1: str | None = None  # the git blob id the Hub lists for files not in LFS (small ones)


@dataclass(frozen=True)
class Listing:
    files: tuple[RemoteFile, ...]
    revision: str | None = None
    resolved_sha: str | None = None


@dataclass(frozen=True)
class FetchedFile:
    path: str
    size: int
    sha256: str
    # An archive unpacked into dest (an OCI image layer): the files it left there, the archive itself gone.
    unpacked: tuple[FetchedFile, ...] | None = None


class Source(Protocol):
    """A place models come from. `default_filter` says whether the Hub's file selection applies (a repository
    holds many formats; a bucket prefix, a directory or an OCI artifact is taken whole); `concurrent_files` whether
    its files may be fetched side by side (not image layers, which unpack in order)."""

    default_filter: bool
    concurrent_files: bool

    def list_files(self) -> Listing: ...

    def fetch(self, file: RemoteFile, target: Path, progress: FileProgress) -> FetchedFile: ...


def checked_relative(path: str) -> str:
    """A listed path, refused if it could land outside dest (a hostile listing must not write elsewhere) or
    name one of the loader's own files."""
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or any(part in ("..", ".") for part in pure.parts) or "\\" in path:
        raise LoaderError(Reason.INVALID_SOURCE, f"the source lists an unsafe path {path!r}")
    if is_reserved(path):
        raise LoaderError(
            Reason.INVALID_SOURCE,
            f"the source lists {path!r}, a name the loader keeps for its own "
            f"files in the cache ({RESERVED_PREFIX}*); refused, so that no source can mark a cache "
            "complete; remove or rename it in the source",
        )
    return pure.as_posix()


def is_reserved(path: str) -> bool:
    return any(part.startswith(RESERVED_PREFIX) for part in PurePosixPath(path).parts)
