"""Image layers unpacked into the cache directory: the regular files and directories of a tar (gzip-compressed or
not), each written beside its final name and renamed into place with its sha256. A hostile layer cannot write
outside dest: absolute paths and `..` are refused, and links, devices and whiteouts (`.wh.` entries, deletions
an image's lower layers would need) are skipped, so no entry can be a way out for a later one. Nor can it fill
the volume: the decompressed stream is counted as it is read, and refused past the cap the caller sets from the
layer's listed size (a 194-byte gzip layer can claim 4 GiB of zeros)."""

from __future__ import annotations

import gzip
import io
import logging
import os
import tarfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, Any, cast

from genai_model_loader.errors import LoaderError, Reason
from genai_model_loader.file_checks import copy_hashed
from genai_model_loader.remote_files import FetchedFile, checked_relative, is_reserved

log = logging.getLogger(__name__)
TAR_SUFFIXES = ("tar", "tar+gzip", "tar.gzip")  # OCI .tar and .tar+gzip, Docker's rootfs.diff.tar.gzip


def is_tar(media_type: str) -> bool:
    return media_type.endswith(TAR_SUFFIXES)


class UnpackTooLargeError(Exception):
    """The decompressed stream passed the cap: the caller says which cap (a layer's, the model's) and the fix."""


class _Capped(io.RawIOBase):
    """A reader that refuses to give out more than `cap` bytes in all (tar headers, padding and contents)."""

    def __init__(self, reader: IO[bytes], cap: int) -> None:
        super().__init__()
        self.reader = reader
        self.cap = cap
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        chunk = self.reader.read(min(len(view), self.cap + 1 - self.count))
        self.count += len(chunk)
        if self.count > self.cap:
            raise UnpackTooLargeError(self.count)
        view[: len(chunk)] = chunk
        return len(chunk)


def unpack_layer(blob: Path, dest: Path, label: str, cap: int, prefix: str | None = None) -> list[FetchedFile]:
    """The files of the tar at `blob` (gzip-compressed or not), written under dest; UnpackTooLargeError once the
    decompressed stream passes `cap` bytes. With `prefix` (an ORAS directory, packed under its own name) every
    entry must lie in that directory."""
    root = dest.resolve()
    files: dict[str, FetchedFile] = {}
    skipped = 0
    try:
        with (
            blob.open("rb") as raw,
            _decompressed(raw) as stream,
            tarfile.open(fileobj=_Capped(stream, cap), mode="r|") as archive,
        ):
            for member in archive:
                path = _entry_path(member.name, label)
                if path is None:
                    continue
                if prefix and path != prefix and not path.startswith(prefix + "/"):
                    raise LoaderError(
                        Reason.INVALID_SOURCE,
                        f"{label} holds {path!r}, outside the directory {prefix} it is titled with",
                    )
                if PurePosixPath(path).name.startswith(".wh.") or not (member.isdir() or member.isreg()):
                    skipped += 1
                    continue
                target = dest / path
                _check_inside(root, target.parent, path, label)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                else:
                    files[path] = _write(archive, member, target, path)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise LoaderError(
            Reason.INVALID_SOURCE, f"{label} is not a readable tar archive ({err}); check the layer's media type"
        ) from None
    if skipped:
        log.info("%s: skipped %d links, devices or whiteouts", label, skipped)
    return list(files.values())


def _decompressed(raw: IO[bytes]) -> IO[bytes]:
    """The tar stream: gunzipped when it starts with gzip's magic (whatever the media type says)."""
    magic = raw.read(2)
    raw.seek(0)
    return cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb")) if magic == b"\x1f\x8b" else raw


def _entry_path(name: str, label: str) -> str | None:
    """The entry's path under dest, None for the layer's root itself; refused if it could leave dest."""
    cleaned = name
    while cleaned.startswith("./"):
        cleaned = cleaned[2:]
    cleaned = cleaned.rstrip("/")
    if cleaned in ("", "."):
        return None
    try:
        return checked_relative(cleaned)
    except LoaderError as err:
        if is_reserved(cleaned):
            raise LoaderError(Reason.INVALID_SOURCE, f"{label}: {err.detail}") from None
        raise LoaderError(
            Reason.INVALID_SOURCE,
            f"{label} holds the unsafe path {name!r}; nothing of it is written "
            "outside the cache directory, and the layer is refused",
        ) from None


def _check_inside(root: Path, directory: Path, path: str, label: str) -> None:
    # Only reachable through a symlink dest already holds: the layer itself never creates one.
    resolved = directory.resolve()
    if resolved != root and root not in resolved.parents:
        raise LoaderError(Reason.INVALID_SOURCE, f"{label}: {path!r} would be written outside the cache directory")


def _write(archive: tarfile.TarFile, member: tarfile.TarInfo, target: Path, path: str) -> FetchedFile:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.genai-unpack")
    source = archive.extractfile(member)
    if source is None:  # a regular file always has a reader; guard the Optional anyway
        raise LoaderError(Reason.INVALID_SOURCE, f"the layer entry {path!r} has no content")
    with source:
        sha256, size = copy_hashed(source, temporary, path)
    os.replace(temporary, target)
    return FetchedFile(path, size, sha256)
