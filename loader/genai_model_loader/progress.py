"""Progress lines on stderr: at most one per file every few seconds, one when a file completes, and a summary,
e.g. `model: 1.2/4.4 GiB (27%) model-00001-of-00004.safetensors 85.3 MiB/s eta 38s`."""

from __future__ import annotations

import logging
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
    (interrupted) run left, and the rate only what this run moved."""

    def __init__(self, name: str, total: int, *, interval: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name = name
        self.total = total
        self.done = 0
        self.moved = 0
        self.interval = interval
        self.clock = clock
        self.started = clock()

    def file(self, path: str) -> FileProgress:
        return FileProgress(self, path)

    def line(self, path: str, suffix: str = "") -> str:
        index = _unit(max(self.total, 1))
        scale = 1024**index
        percent = self.done * 100 // self.total if self.total else 100
        elapsed = max(self.clock() - self.started, 1e-6)
        rate = self.moved / elapsed
        eta = f"eta {format_duration((self.total - self.done) / rate)}" if rate > 0 else "eta ?"
        amount = f"{self.done / scale:.1f}/{self.total / scale:.1f} {UNITS[index]}" if index else \
            f"{self.done}/{self.total} B"
        return f"{self.name}: {amount} ({percent}%) {path} {format_bytes(rate)}/s {suffix or eta}"

    def summary(self, files: int, cache: str, seconds: float) -> str:
        return f"{self.name}: fetched {files} files, {format_bytes(self.total)} in {format_duration(seconds)} ({cache})"


class FileProgress:
    """One file's share of its item's progress; the downloader calls start, advance, rewind and finish."""

    def __init__(self, item: ItemProgress, path: str) -> None:
        self.item = item
        self.path = path
        self.counted = 0
        self.last_log = item.clock()

    def start(self, on_disk: int) -> None:
        """Bytes already on disk (a resumed download) count as done but not as moved."""
        self.rewind()
        self.counted = on_disk
        self.item.done += on_disk

    def advance(self, size: int) -> None:
        self.counted += size
        self.item.done += size
        self.item.moved += size
        now = self.item.clock()
        if now - self.last_log >= self.item.interval:
            self.last_log = now
            log.info("%s", self.item.line(self.path))

    def rewind(self) -> None:
        """The download starts over: what this file had counted is not done any more."""
        self.item.done -= self.counted
        self.counted = 0

    def finish(self) -> None:
        log.info("%s", self.item.line(self.path, "done"))
