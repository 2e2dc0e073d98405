"""How one item's download shares its connections: at most `connections` requests stream at once, whether they are
whole files side by side or ranged parts of one large file. Each stream runs on one of `connections` threads; a
file's own thread only plans its parts, hashes what they wrote and waits, so it never holds a connection while
waiting for one (no deadlock however many files wait). One failure stops the rest promptly."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from genai_model_loader.errors import LoaderError
from genai_model_loader.limits import MIB

T = TypeVar("T")
A = TypeVar("A")
# Parts below this cost more in request round trips than they win in parallelism (unless told smaller, in tests).
MIN_PART_BYTES = 8 * MIB


class CancelledError(Exception):
    """Another stream of the item failed: this one stops and leaves what it wrote for a later run to resume."""


class Transfer:
    def __init__(self, connections: int = 1, part_bytes: int = 64 * MIB) -> None:
        self.connections = connections
        self.part_bytes = part_bytes
        self.cancelled = threading.Event()
        self._lock = threading.Lock()
        self._streams: ThreadPoolExecutor | None = None

    def part_length(self, size: int) -> int:
        """The length of the ranged parts of a file of `size` bytes (`size` itself: one stream). At least as many
        parts as connections, so that a file alone still uses them all, but none above `part_bytes`."""
        if self.connections < 2:
            return size
        floor = min(MIN_PART_BYTES, self.part_bytes)
        return max(min(math.ceil(size / self.connections), self.part_bytes), floor)

    def stream(self, action: Callable[[], T]) -> Future[T]:
        """Runs `action` (one request and its body) on one of the connections."""
        with self._lock:
            if self._streams is None:
                self._streams = ThreadPoolExecutor(self.connections, thread_name_prefix="loader-stream")
            return self._streams.submit(self._guarded, action)

    def _guarded(self, action: Callable[[], T]) -> T:
        if self.cancelled.is_set():
            raise CancelledError()
        return action()

    def check(self) -> None:
        """Between chunks: stop when another stream failed."""
        if self.cancelled.is_set():
            raise CancelledError()

    def each(self, action: Callable[[A], T], items: Sequence[A], concurrently: bool) -> list[T]:
        """`action` on every item, side by side (at most `connections` at once) when `concurrently`; the results in
        order. The first failure cancels the others; the one raised is that of the earliest item that failed for a
        reason of its own (not CancelledError), so the message does not depend on timing."""
        if not concurrently or len(items) < 2 or self.connections < 2:
            return [action(item) for item in items]
        with ThreadPoolExecutor(min(self.connections, len(items)), thread_name_prefix="loader-file") as files:
            futures = [files.submit(self._cancel_on_failure, action, item) for item in items]
            errors = [f.exception() for f in futures]
        first = next((e for e in errors if e is not None and not isinstance(e, CancelledError)), None)
        if first is not None:
            raise first
        return [f.result() for f in futures]

    def _cancel_on_failure(self, action: Callable[[A], T], item: A) -> T:
        if self.cancelled.is_set():
            raise CancelledError()
        try:
            return action(item)
        except BaseException:
            self.cancelled.set()
            raise

    def close(self) -> None:
        with self._lock:
            streams, self._streams = self._streams, None
        if streams is not None:
            streams.shutdown(wait=True, cancel_futures=True)


def first_error(errors: Sequence[BaseException | None]) -> BaseException | None:
    """The error to report among a file's streams: a LoaderError or other failure of its own before a Cancelled."""
    real = [e for e in errors if e is not None and not isinstance(e, CancelledError)]
    loader = [e for e in real if isinstance(e, LoaderError)]
    return (loader or real or [e for e in errors if e is not None] or [None])[0]
