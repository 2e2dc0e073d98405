"""What every source lists and fetches: the files of a model with the sizes and checksums the source vouches for."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from genai_model_loader.errors import LoaderError, Reason
from genai_model_loader.progress import FileProgress


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
    holds many formats; a bucket prefix, a directory or an OCI artifact is taken whole)."""

    default_filter: bool

    def list_files(self) -> Listing: ...

    def fetch(self, file: RemoteFile, target: Path, progress: FileProgress) -> FetchedFile: ...


def checked_relative(path: str) -> str:
    """A listed path, refused if it could land outside dest (a hostile listing must not write elsewhere)."""
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or any(part in ("..", ".") for part in pure.parts) or "\\" in path:
        raise LoaderError(Reason.INVALID_SOURCE, f"the source lists an unsafe path {path!r}")
    return pure.as_posix()
