"""Size and checksum checks of a fetched file against what its source listed."""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO

from genai_model_loader.errors import LoaderError, Reason
from genai_model_loader.remote_files import RemoteFile

CHUNK = 1 << 20


def copy_hashed(
    reader: IO[bytes], path: Path, what: str, advance: Callable[[int], None] | None = None
) -> tuple[str, int]:
    """Stream `reader` into `path` (synced to disk): (sha256 hex, size). A full disk is NoSpace naming `what`;
    other errors are the caller's to explain. `path` is removed on any failure."""
    digest, size = hashlib.sha256(), 0
    try:
        with path.open("wb") as writer:
            while chunk := reader.read(CHUNK):
                writer.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                if advance is not None:
                    advance(len(chunk))
            writer.flush()
            os.fsync(writer.fileno())
    except OSError as err:
        path.unlink(missing_ok=True)
        if err.errno == errno.ENOSPC:
            raise LoaderError(
                Reason.NO_SPACE, f"the cache volume filled up while writing {what}; raise the pool's cache size"
            ) from None
        raise
    return digest.hexdigest(), size


def hash_file(path: Path) -> tuple[str, str]:
    """(sha256, md5) hex digests of a file, read once."""
    sha256, md5 = hashlib.sha256(), hashlib.md5()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            sha256.update(chunk)
            md5.update(chunk)
    return sha256.hexdigest(), md5.hexdigest()


def git_blob_sha1(path: Path) -> str:
    """The id git gives the file's content; only computed for files outside LFS, which are small."""
    digest = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    digest.update(path.read_bytes())
    return digest.hexdigest()


def verify_checksums(remote: RemoteFile, size: int, sha256: str, md5: str | None, path: Path) -> None:
    """Raises SizeMismatch or ChecksumMismatch; `md5` None skips the MD5 check (the ETag is not an MD5).
    `path` is the file on disk, read again only for the git blob id."""
    if remote.size is not None and size != remote.size:
        raise LoaderError(
            Reason.SIZE_MISMATCH,
            f"{remote.path} has {size} bytes but the source lists {remote.size}; "
            "the bad file was deleted, the next attempt fetches it again",
        )
    if remote.sha256 and sha256 != remote.sha256.lower():
        raise LoaderError(
            Reason.CHECKSUM_MISMATCH,
            f"{remote.path} has sha256 {sha256} but the source lists "
            f"{remote.sha256.lower()}; the bad file was deleted, the next attempt fetches it again",
        )
    if remote.git_sha1 and git_blob_sha1(path) != remote.git_sha1.lower():
        raise LoaderError(
            Reason.CHECKSUM_MISMATCH,
            f"{remote.path} does not have the git blob id "
            f"{remote.git_sha1.lower()} the source lists; the bad file was deleted, the next attempt "
            "fetches it again",
        )
    if remote.md5 and md5 is not None and md5 != remote.md5.lower():
        raise LoaderError(
            Reason.CHECKSUM_MISMATCH,
            f"{remote.path} has MD5 {md5} but its ETag says "
            f"{remote.md5.lower()}; the bad file was deleted, the next attempt fetches it again",
        )
