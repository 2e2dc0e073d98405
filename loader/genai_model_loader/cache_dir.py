"""The cache directory of one item: the completion marker that makes a later start a cache hit, the manifest of
what was fetched, the lock that lets replicas sharing a ReadWriteMany volume fill it once, and pruning of
directories that hold older revisions of the same source.

A shared cache serves several ModelDeployments, each pruning by its own `keep`: an owner (the plan's `owner`)
leaves a reference in `<dest>.refs/` on every run, and a directory still referenced by another owner is never
pruned (the pruning owner only drops its own reference). An init container cannot renew a lease for as long as
its pod runs, so references do not expire: a deleted owner's reference is removed by hand (README)."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from genai_model_loader.plan import PlanItem
from genai_model_loader.remote_files import RESERVED_PREFIX

log = logging.getLogger(__name__)
MARKER = f"{RESERVED_PREFIX}complete"
MANIFEST = f"{RESERVED_PREFIX}manifest.json"


def lock_path(dest: Path) -> Path:
    # Beside dest, not in it: pruning deletes dest whole, and the lock must outlive that.
    return dest.with_name(dest.name + ".lock")


def refs_path(dest: Path) -> Path:
    # Beside dest like the lock: out of every source's reach, and kept while dest is refilled.
    return dest.with_name(dest.name + ".refs")


def add_reference(dest: Path, owner: str | None) -> None:
    """Record that `owner` uses dest; without an owner (an older operator) nothing is recorded."""
    if owner:
        refs = refs_path(dest)
        refs.mkdir(parents=True, exist_ok=True)
        (refs / quote(owner, safe="")).touch()


def references(directory: Path) -> set[str]:
    try:
        return {unquote(path.name) for path in refs_path(directory).iterdir()}
    except (FileNotFoundError, NotADirectoryError):
        return set()


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Readers see the old file or the new one, never half of one (also after a crash: the rename is last)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8") as out:
        json.dump(data, out, indent=2, sort_keys=True)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def marker_matches(dest: Path, item: PlanItem) -> dict[str, Any] | None:
    """The marker, if dest is complete for exactly this uri and file selection."""
    marker = read_json(dest / MARKER)
    if marker and marker.get("uri") == item.uri and all(marker.get(k) == v for k, v in item.selection.items()):
        return marker
    return None


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@contextmanager
def exclusive_lock(
    dest: Path,
    name: str,
    *,
    poll: float = 0.25,
    report_every: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[None]:
    """flock on `<dest>.lock`; works across pods on NFS-backed volumes, and the kernel drops it when the holder
    dies, so a crashed replica never blocks the others. Polled, to say every `report_every` s that we wait."""
    path = lock_path(dest)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o664)
    try:
        since: float | None = None
        last_report = 0.0
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                now = clock()
                if since is None or now - last_report >= report_every:
                    waited = "" if since is None else f" ({now - since:.0f}s so far)"
                    log.info("%s: waiting for another replica to fill the cache at %s%s", name, dest, waited)
                    since = now if since is None else since
                    last_report = now
                time.sleep(poll)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def prune_old_revisions(dest: Path, keep: int, name: str, owner: str | None = None) -> list[Path]:
    """Delete sibling cache directories holding the same source at another revision, keeping the `keep` most
    recently completed ones (dest included). Directories still locked (being filled or pruned) are left alone,
    and so are those another owner references (this owner's own reference to them is dropped)."""
    manifest = read_json(dest / MANIFEST)
    if not manifest:
        return []
    candidates = [(str(manifest.get("completedAt", "")), dest)]
    for sibling in sorted(dest.parent.iterdir()):
        other = read_json(sibling / MANIFEST) if sibling != dest and sibling.is_dir() else None
        if (
            other
            and other.get("source") == manifest.get("source")
            and other.get("revision") != manifest.get("revision")
            and (sibling / MARKER).is_file()
        ):
            candidates.append((str(other.get("completedAt", "")), sibling))
    candidates.sort(key=lambda candidate: candidate[0], reverse=True)
    pruned = []
    for _, old in candidates[keep:]:
        if old == dest:
            continue
        if owner:
            (refs_path(old) / quote(owner, safe="")).unlink(missing_ok=True)
        users = references(old)
        if users:
            log.info(
                "%s: kept %s (an older revision of %s) for %s, which use it",
                name,
                old,
                manifest.get("source"),
                ", ".join(sorted(users)),
            )
        elif _remove_unless_used(old):
            log.info("%s: pruned %s (an older revision of %s)", name, old, manifest.get("source"))
            pruned.append(old)
    return pruned


def _remove_unless_used(directory: Path) -> bool:
    """Delete directory unless it is locked or an owner references it. A loader references dest before it
    looks for the marker, and the marker goes before the references are read: so either this sees the
    reference and puts the marker back, or that loader finds no marker and refills dest once this is done."""
    descriptor = os.open(lock_path(directory), os.O_RDWR | os.O_CREAT, 0o664)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        # The marker goes first: a half-deleted directory must never look complete.
        marker = read_json(directory / MARKER)
        (directory / MARKER).unlink(missing_ok=True)
        if references(directory):
            if marker is not None:
                write_json_atomic(directory / MARKER, marker)
            return False
        shutil.rmtree(directory, ignore_errors=True)
        shutil.rmtree(refs_path(directory), ignore_errors=True)
        return True
    finally:
        os.close(descriptor)
