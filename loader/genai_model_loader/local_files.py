"""file:// sources: a directory (or one file) on a mounted volume, copied into the cache with the same
.part-then-rename and size checks as a download. The operator mounts a PVC source at /model-source."""

from __future__ import annotations

import os
from pathlib import Path

from genai_model_loader.errors import LoaderError, Reason
from genai_model_loader.file_checks import copy_hashed, verify_checksums
from genai_model_loader.progress import FileProgress
from genai_model_loader.remote_files import FetchedFile, Listing, RemoteFile
from genai_model_loader.source_uris import LocalRef


class LocalSource:
    default_filter = False
    concurrent_files = False  # a local copy is bound by the disk, not by a connection

    def __init__(self, ref: LocalRef) -> None:
        self.root = Path(ref.path)
        self.paths: dict[str, Path] = {}  # path under dest -> file to copy, filled by list_files

    def list_files(self) -> Listing:
        if self.root.is_file():
            self.paths = {self.root.name: self.root}
        elif self.root.is_dir():
            self.paths = {
                path.relative_to(self.root).as_posix(): path
                for path in sorted(self.root.rglob("*"))
                # Hidden files (.git, .cache, our own markers) and unfinished copies are not part of a model.
                if path.is_file()
                and not any(part.startswith(".") for part in path.relative_to(self.root).parts)
                and not path.name.endswith((".part", ".lock"))
            }
        else:
            raise LoaderError(
                Reason.NOT_FOUND, f"{self.root} does not exist; check that the volume is mounted and the path inside it"
            )
        if not self.paths:
            raise LoaderError(Reason.NOT_FOUND, f"{self.root} holds no files")
        return Listing(tuple(RemoteFile(rel, path.stat().st_size) for rel, path in self.paths.items()))

    def fetch(self, file: RemoteFile, target: Path, progress: FileProgress) -> FetchedFile:
        source = self.paths[file.path]
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        progress.start(0)
        try:
            with source.open("rb") as reader:
                sha256, size = copy_hashed(reader, part, file.path, progress.advance)
        except OSError as err:
            part.unlink(missing_ok=True)
            raise LoaderError(Reason.NOT_FOUND, f"reading {source} failed: {err.strerror or err}") from None
        try:
            verify_checksums(file, size, sha256, None, part)
        except LoaderError:
            part.unlink(missing_ok=True)
            raise
        os.replace(part, target)
        progress.finish()
        return FetchedFile(file.path, size, sha256)
