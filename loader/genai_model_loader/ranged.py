"""One large file in ranged parts over several connections (HTTP Range `bytes=start-end`), written in place into
`.genai-parts-<name>` with a journal `.genai-parts-<name>.json` of how many bytes of each part are on disk for sure.

- Resumable per part: a part writes with pwrite at its own offsets and, every CHECKPOINT bytes and at its end, syncs
  the file and only then records its count in the journal, so the journal never claims bytes a crash could lose; a
  later run continues each part where the journal says. The journal names the file's size and checksums: one left
  by other content is not resumed.
- Never mistaken for complete: the data file has its full (sparse) length from the start, so its size says nothing;
  it carries the reserved `.genai-` prefix (no source may list such a name) and only becomes `<name>` by a rename
  after every part is in and the checksums match.
- Integrity: the sha256 and MD5 are computed in order by the file's own thread, which follows the contiguous prefix
  the parts have written (reading it back from the page cache while the later parts still stream), so after the
  last byte only the tail written since remains to hash.
- A server that answers a ranged request with 200 ignores Range: RangeIgnoredError, and the caller falls back to one
  stream."""

from __future__ import annotations

import errno
import hashlib
import http.client
import logging
import os
import re
from collections.abc import Callable
from concurrent.futures import wait
from dataclasses import dataclass
from email.message import Message
from functools import partial
from pathlib import Path
from typing import Any

from genai_model_loader.cache_dir import read_json
from genai_model_loader.errors import LoaderError, Reason
from genai_model_loader.http_transport import HttpStatusError, RequestFactory, open_response
from genai_model_loader.limits import MIB
from genai_model_loader.part_state import Parts, discard, identity, state_paths
from genai_model_loader.progress import FileProgress
from genai_model_loader.remote_files import RemoteFile
from genai_model_loader.retry import RetryPolicy, TransientError, with_retries
from genai_model_loader.transfer import CancelledError, Transfer, first_error

log = logging.getLogger(__name__)
CHUNK = 1 << 20
CHECKPOINT = 32 * MIB  # bytes of a part between syncs: what a crash can cost each part at most
HASH_STEP = 4 * MIB  # the hasher wakes when this much more of the prefix is written (or the file is whole)
Explain = Callable[[HttpStatusError], LoaderError]


class RangeIgnoredError(Exception):
    """The server answered a ranged request with the whole file (200)."""


@dataclass
class Result:
    sha256: str
    md5: str | None  # only computed when the source lists one
    headers: Message | None
    resumed: bool


def download_parts(
    factory: RequestFactory,
    remote: RemoteFile,
    target: Path,
    progress: FileProgress,
    policy: RetryPolicy,
    explain: Explain,
    hint: str,
    transfer: Transfer,
) -> Result:
    """The file into its data file, every part in; the caller checks the checksums and renames."""
    size = remote.size
    assert size is not None, "only files of a listed size are cut into parts"
    data, journal = state_paths(target)
    state = read_json(journal)
    done: list[int] = []
    length = transfer.part_length(size)
    if (
        state
        and state.get("file") == identity(remote)
        and data.is_file()
        and data.stat().st_size == size
        and isinstance(state.get("partBytes"), int)
        and isinstance(state.get("done"), list)
    ):
        length, done = state["partBytes"], [d if isinstance(d, int) else 0 for d in state["done"]]
    parts = Parts(remote, size, max(length, 1), journal, done)
    if len(done) != len(parts.starts) or any(
        not 0 <= d <= e - s for d, s, e in zip(done, parts.starts, parts.ends, strict=False)
    ):
        done = [0] * len(parts.starts)
        discard(target)
        with data.open("wb") as out:
            out.truncate(size)  # sparse: the parts fill it in place
        parts.written, parts.synced = list(done), list(done)
        parts.record(0, 0)
    resumed = sum(done) > 0
    progress.start(sum(done))
    if resumed:
        log.info("%s: resuming %d parts (%d bytes on disk)", remote.path, len(done), sum(done))
    fd = os.open(data, os.O_RDWR)
    try:
        futures = [
            transfer.stream(partial(_part, factory, parts, i, fd, progress, policy, explain, hint, transfer))
            for i in range(len(parts.starts))
            if done[i] < parts.ends[i] - parts.starts[i]
        ]
        for future in futures:
            future.add_done_callback(lambda f: parts.fail() if f.cancelled() or f.exception() else None)
        sha256, md5 = _hash_in_order(parts, fd)
        wait(futures)
    finally:
        for future in futures:
            future.cancel()
        wait(futures)
        os.close(fd)
    error = first_error([f.exception() for f in futures if not f.cancelled()])
    if error is not None:
        raise error
    return Result(sha256.hexdigest(), md5.hexdigest() if md5 else None, parts.headers, resumed)


def _hash_in_order(parts: Parts, fd: int) -> tuple[Any, Any]:
    sha256, md5 = hashlib.sha256(), hashlib.md5() if parts.remote.md5 else None
    hashed = 0
    while hashed < parts.size:
        with parts.changed:
            wanted = min(hashed + HASH_STEP, parts.size)
            parts.changed.wait_for(lambda: parts.failed or parts.prefix() >= wanted)  # noqa: B023 (called here)
            if parts.failed:
                return sha256, md5
            ready = parts.prefix()
        while hashed < ready:
            chunk = os.pread(fd, min(CHUNK, ready - hashed), hashed)
            if not chunk:
                raise LoaderError(Reason.NETWORK_ERROR, f"{parts.remote.path}: the part file ended early")
            sha256.update(chunk)
            if md5 is not None:
                md5.update(chunk)
            hashed += len(chunk)
    return sha256, md5


def _part(
    factory: RequestFactory,
    parts: Parts,
    index: int,
    fd: int,
    progress: FileProgress,
    policy: RetryPolicy,
    explain: Explain,
    hint: str,
    transfer: Transfer,
) -> None:
    what = f"downloading {parts.remote.path} (part {index + 1} of {len(parts.starts)})"
    with_retries(lambda: _attempt(factory, parts, index, fd, progress, policy, explain, transfer), policy, what, hint)


def _attempt(
    factory: RequestFactory,
    parts: Parts,
    index: int,
    fd: int,
    progress: FileProgress,
    policy: RetryPolicy,
    explain: Explain,
    transfer: Transfer,
) -> None:
    transfer.check()
    end = parts.ends[index]
    position = parts.starts[index] + parts.written[index]
    try:
        response = open_response(factory({"Range": f"bytes={position}-{end - 1}"}), policy.timeout)
    except HttpStatusError as err:
        raise explain(err) from None
    with response:
        if response.status != 206:
            raise RangeIgnoredError()
        _check_range(response, position, end, parts)
        if parts.headers is None:
            parts.headers = response.headers
        unsynced = 0
        try:
            while position < end:
                transfer.check()
                if parts.failed:  # another part of this file failed: the file is retried or reported as a whole
                    raise CancelledError()
                try:
                    chunk = response.read(min(CHUNK, end - position))
                except (OSError, http.client.HTTPException) as err:
                    raise TransientError(f"the connection broke at byte {position}: {err!r}") from None
                if not chunk:
                    break
                _write(fd, chunk, position, parts.remote.path)
                position += len(chunk)
                unsynced += len(chunk)
                parts.advance(index, len(chunk))
                progress.advance(len(chunk))
                if unsynced >= CHECKPOINT:
                    _checkpoint(parts, index, fd)
                    unsynced = 0
        except (CancelledError, TransientError):
            _checkpoint(parts, index, fd)  # what this part got so far is kept for the retry or the next run
            raise
        _checkpoint(parts, index, fd)
    if position < end:
        raise TransientError(f"the response ended at byte {position} of {parts.remote.path}, not {end}")


def _check_range(response: http.client.HTTPResponse, start: int, end: int, parts: Parts) -> None:
    match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+|\*)", (response.headers.get("Content-Range") or "").strip())
    if match and match.group(3) not in ("*", str(parts.size)):
        raise LoaderError(
            Reason.SIZE_MISMATCH,
            f"{parts.remote.path}: the server sends {match.group(3)} bytes but "
            f"the listing says {parts.size}; the source changed while fetching, run it again",
        )
    if not match or int(match.group(1)) != start or int(match.group(2)) != end - 1:
        raise TransientError(
            f"the server sent another range than bytes={start}-{end - 1} ({response.headers.get('Content-Range')!r})"
        )


def _write(fd: int, chunk: bytes, position: int, path: str) -> None:
    view = memoryview(chunk)
    try:
        while view:
            written = os.pwrite(fd, view, position)
            view, position = view[written:], position + written
    except OSError as err:
        if err.errno == errno.ENOSPC:
            raise LoaderError(
                Reason.NO_SPACE, f"the cache volume filled up while writing {path}; raise the pool's cache size"
            ) from None
        raise


def _checkpoint(parts: Parts, index: int, fd: int) -> None:
    """What this part has written is on disk before the journal says so."""
    written = parts.written[index]
    os.fdatasync(fd)
    parts.record(index, written)
