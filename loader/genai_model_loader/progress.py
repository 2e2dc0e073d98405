"""Progress lines on stderr: at most one per item every few seconds (however many files and parts are in flight),
one when a file completes, and a summary,
e.g. `model: 1.2/4.4 GiB (27%) model-00001-of-00004.safetensors 85.3 MiB/s eta 38s`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger(__name__)
UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def _unit(size: float) -> int:
    index = 0
    while size >= 1024 and index < len(UNITS) - 1:
        size /= 1024
        index += 1
    return index


def format_bytes(size: float) -> str:
    index = _unit(size)
    value = size / 1024**index
    return f"{value:.0f} {UNITS[index]}" if index == 0 else f"{value:.1f} {UNITS[index]}"


def format_duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class ItemProgress:
    """The progress of one plan item over all its files; `done` counts bytes on disk, including those an earlier
    (interrupted) run left, and the rate only what this run moved. Files and their ranged parts advance it from
    several threads at once, so it is locked, and it logs at most one line per interval for the whole item (naming
    the oldest file in flight and how many more there are), never one per file or per part."""

    def __init__(
        self, name: str, total: int, *, interval: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.name = name
        self.total = total
        self.done = 0
        self.moved = 0
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self.last_log = self.started
        self.lock = threading.Lock()
        self.in_flight: dict[str, None] = {}  # insertion-ordered: the oldest file first

    def file(self, path: str) -> FileProgress:
        return FileProgress(self, path)

    def line(self, path: str, suffix: str = "") -> str:
        index = _unit(max(self.total, 1))
        scale = 1024**index
        percent = self.done * 100 // self.total if self.total else 100
        elapsed = max(self.clock() - self.started, 1e-6)
        rate = self.moved / elapsed
        eta = f"eta {format_duration((self.total - self.done) / rate)}" if rate > 0 else "eta ?"
        amount = (
            f"{self.done / scale:.1f}/{self.total / scale:.1f} {UNITS[index]}"
            if index
            else f"{self.done}/{self.total} B"
        )
        return f"{self.name}: {amount} ({percent}%) {path} {format_bytes(rate)}/s {suffix or eta}"

    def summary(self, files: int, cache: str, seconds: float) -> str:
        return f"{self.name}: fetched {files} files, {format_bytes(self.total)} in {format_duration(seconds)} ({cache})"

    def _count(self, path: str, on_disk: int, moved: int) -> str | None:
        """Adds bytes under the lock; the line to log when the interval has passed."""
        with self.lock:
            self.done += on_disk
            self.moved += moved
            self.in_flight.setdefault(path, None)
            now = self.clock()
            if moved <= 0 or now - self.last_log < self.interval:
                return None
            self.last_log = now
            oldest = next(iter(self.in_flight))
            more = len(self.in_flight) - 1
            return self.line(oldest + (f" (+{more} more)" if more else ""))

    def _finish(self, path: str) -> str:
        with self.lock:
            self.in_flight.pop(path, None)
            return self.line(path, "done")


class FileProgress:
    """One file's share of its item's progress; the downloader calls start, advance, rewind and finish (advance
    from any thread: ranged parts of one file advance it side by side)."""

    def __init__(self, item: ItemProgress, path: str) -> None:
        self.item = item
        self.path = path
        self.counted = 0

    def start(self, on_disk: int) -> None:
        """Bytes already on disk (a resumed download) count as done but not as moved."""
        self.rewind()
        self.counted = on_disk
        self.item._count(self.path, on_disk, 0)

    def advance(self, size: int) -> None:
        with self.item.lock:
            self.counted += size
        line = self.item._count(self.path, size, size)
        if line:
            log.info("%s", line)

    def rewind(self) -> None:
        """The download starts over: what this file had counted is not done any more."""
        with self.item.lock:
            counted, self.counted = self.counted, 0
        self.item._count(self.path, -counted, 0)

    def finish(self) -> None:
        log.info("%s", self.item._finish(self.path))
