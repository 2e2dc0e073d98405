"""The on-disk state of a file fetched in ranged parts (ranged.py): the data file `.genai-parts-<name>`, written
in place at its full sparse length, and its journal `.genai-parts-<name>.json` (the file's size and checksums, the
part length, and per part the bytes synced to disk); plus the in-memory account of what each part has written,
which the hasher follows."""

from __future__ import annotations

import threading
from email.message import Message
from pathlib import Path
from typing import Any

from genai_model_loader.cache_dir import read_json, write_json_atomic
from genai_model_loader.remote_files import RESERVED_PREFIX, RemoteFile


def state_paths(target: Path) -> tuple[Path, Path]:
    """(data file, journal) of a ranged download of `target`."""
    data = target.with_name(f"{RESERVED_PREFIX}parts-{target.name}")
    return data, data.with_name(data.name + ".json")


def identity(remote: RemoteFile) -> dict[str, Any]:
    return {"size": remote.size, "sha256": remote.sha256, "md5": remote.md5, "gitSha1": remote.git_sha1}


def journal_done(target: Path, remote: RemoteFile) -> int | None:
    """Bytes a resumable ranged download of this very content has on disk, None when there is none."""
    data, journal = state_paths(target)
    state = read_json(journal)
    if not state or state.get("file") != identity(remote) or not data.is_file():
        return None
    done = state.get("done")
    return sum(d for d in done if isinstance(d, int)) if isinstance(done, list) else None


def discard(target: Path) -> None:
    for path in state_paths(target):
        path.unlink(missing_ok=True)


class Parts:
    """The layout and what each part has written (in memory) and synced (in the journal)."""

    def __init__(self, remote: RemoteFile, size: int, length: int, journal: Path, done: list[int]) -> None:
        self.remote, self.size, self.length, self.journal = remote, size, length, journal
        self.starts = list(range(0, size, length))
        self.ends = [min(start + length, size) for start in self.starts]  # exclusive
        self.written = list(done)
        self.synced = list(done)
        self.changed = threading.Condition()
        self.failed = False
        self.headers: Message | None = None

    def prefix(self) -> int:
        """Bytes from 0 that every part has written: what the hasher may read."""
        for index, start in enumerate(self.starts):
            if start + self.written[index] < self.ends[index]:
                return start + self.written[index]
        return self.size

    def advance(self, index: int, size: int) -> None:
        with self.changed:
            self.written[index] += size
            self.changed.notify_all()

    def record(self, index: int, synced: int) -> None:
        with self.changed:  # one journal writer at a time: they share the temporary file's name
            self.synced[index] = max(self.synced[index], synced)
            write_json_atomic(
                self.journal, {"file": identity(self.remote), "partBytes": self.length, "done": self.synced}
            )

    def fail(self) -> None:
        with self.changed:
            self.failed = True
            self.changed.notify_all()
