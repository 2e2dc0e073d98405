"""One file over HTTP: a large one in ranged parts over several connections (ranged.py), else one stream into
`<file>.part`, resumed with Range after a dropped connection or an earlier run; retried with backoff, checked against
the listed size and checksums, then renamed into place atomically."""

from __future__ import annotations

import errno
import hashlib
import http.client
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from functools import partial
from pathlib import Path
from typing import Any

from genai_model_loader import ranged
from genai_model_loader.errors import LoaderError, Reason
from genai_model_loader.file_checks import hash_file, verify_checksums
from genai_model_loader.http_transport import HttpStatusError, RequestFactory, open_response
from genai_model_loader.part_state import discard, state_paths
from genai_model_loader.progress import FileProgress
from genai_model_loader.remote_files import FetchedFile, RemoteFile
from genai_model_loader.retry import RetryPolicy, TransientError, with_retries
from genai_model_loader.transfer import Transfer

log = logging.getLogger(__name__)
CHUNK = 1 << 20
Explain = Callable[[HttpStatusError], LoaderError]
Md5Applies = Callable[[Message | None], bool]


@dataclass
class _Digests:
    """Hashes of the first `length` bytes of the .part file, kept across attempts so a resume hashes only the
    new bytes (re-read from disk when they fall out of step, e.g. after a failed write)."""

    length: int = 0
    sha256: Any = field(default_factory=hashlib.sha256)
    md5: Any = field(default_factory=hashlib.md5)

    def sync(self, part: Path, offset: int) -> None:
        if self.length != offset:
            self.length, self.sha256, self.md5 = 0, hashlib.sha256(), hashlib.md5()
            if offset:
                with part.open("rb") as existing:
                    while chunk := existing.read(CHUNK):
                        self.update(chunk)

    def update(self, chunk: bytes) -> None:
        self.sha256.update(chunk)
        self.md5.update(chunk)
        self.length += len(chunk)


def download(
    factory: RequestFactory,
    remote: RemoteFile,
    target: Path,
    progress: FileProgress,
    policy: RetryPolicy,
    explain: Explain,
    hint: str,
    md5_applies: Md5Applies = lambda headers: True,
    transfer: Transfer | None = None,
) -> FetchedFile:
    transfer = transfer or Transfer()
    target.parent.mkdir(parents=True, exist_ok=True)
    reused = _reuse_complete(remote, target, progress)
    if reused:
        return reused
    part = target.with_name(target.name + ".part")
    # A .part (one stream's prefix, also from an older loader) is resumed as one stream; else a large file in parts.
    in_parts = remote.size is not None and transfer.part_length(remote.size) < remote.size and not part.exists()
    for fresh in (False, True):
        written, resumed, sha256, md5, headers = part, False, "", None, None
        if in_parts:
            try:
                result = ranged.download_parts(factory, remote, target, progress, policy, explain, hint, transfer)
            except ranged.RangeIgnoredError:
                log.info("%s: the server ignores Range; fetching it over one connection", remote.path)
                discard(target)
                progress.rewind()
                in_parts = False
            else:
                written, resumed = state_paths(target)[0], result.resumed
                sha256, md5, headers = result.sha256, result.md5, result.headers
        if not in_parts:
            resumed = part.exists() and part.stat().st_size > 0
            digests = _Digests()
            attempt = partial(_attempt, factory, remote, part, digests, progress, policy, explain, transfer)
            headers = transfer.stream(
                partial(with_retries, attempt, policy, f"downloading {remote.path}", hint)
            ).result()
            digests.sync(part, part.stat().st_size)
            sha256, md5 = digests.sha256.hexdigest(), digests.md5.hexdigest()
        size = written.stat().st_size
        try:
            verify_checksums(remote, size, sha256, md5 if md5_applies(headers) else None, written)
        except LoaderError as err:
            written.unlink(missing_ok=True)
            discard(target)
            if err.reason is Reason.CHECKSUM_MISMATCH and resumed and not fresh:
                # The earlier bytes may be the stale ones (a part left by other content): one clean try.
                log.warning("%s; downloading it again from the start", err.detail)
                progress.rewind()
                continue
            raise
        os.replace(written, target)
        state_paths(target)[1].unlink(missing_ok=True)
        progress.finish()
        return FetchedFile(remote.path, size, sha256)
    raise AssertionError("unreachable: the second pass returns or raises")


def _reuse_complete(remote: RemoteFile, target: Path, progress: FileProgress) -> FetchedFile | None:
    """A file an interrupted run already finished, kept if its size and checksums still match."""
    if not target.is_file():
        return None
    size = target.stat().st_size
    if remote.size is not None and size == remote.size:
        sha256, md5 = hash_file(target)
        try:
            verify_checksums(remote, size, sha256, md5, target)
        except LoaderError:
            pass
        else:
            progress.start(size)
            progress.finish()
            return FetchedFile(remote.path, size, sha256)
    target.unlink()
    return None


def _attempt(
    factory: RequestFactory,
    remote: RemoteFile,
    part: Path,
    digests: _Digests,
    progress: FileProgress,
    policy: RetryPolicy,
    explain: Explain,
    transfer: Transfer,
) -> Message | None:
    """One request; returns the response headers (None when the .part was already whole)."""
    offset = part.stat().st_size if part.exists() else 0
    if remote.size is not None and offset > remote.size:
        part.unlink()
        offset = 0
    if remote.size is not None and offset == remote.size:
        part.touch()
        progress.start(offset)
        return None
    try:
        response = open_response(factory({"Range": f"bytes={offset}-"} if offset else {}), policy.timeout)
    except HttpStatusError as err:
        if err.status == 416 and offset:
            part.unlink()
            raise TransientError("the server refused to resume (416), starting over") from None
        raise explain(err) from None
    with response:
        total = _total_size(response, offset, part)
        if total is not None and remote.size is not None and total != remote.size:
            part.unlink(missing_ok=True)
            raise LoaderError(
                Reason.SIZE_MISMATCH,
                f"{remote.path}: the server sends {total} bytes but the "
                f"listing says {remote.size}; the source changed while fetching, run it again",
            )
        if response.status != 206:
            offset = 0
        digests.sync(part, offset)
        progress.start(offset)
        expected = response.length  # what this response announces; http.client does not check it on EOF
        received = _copy(response, part, offset, remote, digests, progress, transfer)
    if expected is not None and received < expected:
        raise TransientError(f"connection closed after {received} of {expected} bytes")
    if remote.size is not None and offset + received < remote.size:
        raise TransientError(f"the response ended at {offset + received} of {remote.size} bytes")
    return response.headers


def _total_size(response: http.client.HTTPResponse, offset: int, part: Path) -> int | None:
    if response.status == 206:
        match = re.fullmatch(r"bytes (\d+)-\d+/(\d+|\*)", (response.headers.get("Content-Range") or "").strip())
        if not match or int(match.group(1)) != offset:
            part.unlink(missing_ok=True)
            raise TransientError("the server resumed at another offset than asked, starting over")
        return int(match.group(2)) if match.group(2) != "*" else None
    return response.length


def _copy(
    response: http.client.HTTPResponse,
    part: Path,
    offset: int,
    remote: RemoteFile,
    digests: _Digests,
    progress: FileProgress,
    transfer: Transfer,
) -> int:
    received = 0
    with part.open("ab" if offset else "wb") as out:
        while True:
            transfer.check()
            try:
                chunk = response.read(CHUNK)
            except (OSError, http.client.HTTPException) as err:
                raise TransientError(f"the connection broke after {received} bytes: {err!r}") from None
            if not chunk:
                break
            if remote.size is not None and offset + received + len(chunk) > remote.size:
                part.unlink(missing_ok=True)
                raise LoaderError(
                    Reason.SIZE_MISMATCH,
                    f"{remote.path}: the server sends more than the {remote.size} bytes the listing says",
                )
            try:
                out.write(chunk)
            except OSError as err:
                if err.errno == errno.ENOSPC:
                    raise LoaderError(
                        Reason.NO_SPACE,
                        f"the cache volume filled up while writing {remote.path}; raise the pool's cache size",
                    ) from None
                raise
            digests.update(chunk)
            received += len(chunk)
            progress.advance(len(chunk))
        out.flush()
        os.fsync(out.fileno())
    return received
