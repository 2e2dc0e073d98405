"""mode fetch: one item into its cache directory, from the Hub, a bucket, an OCI registry or a mounted directory.
A complete directory for the same uri is a cache hit with no request at all; otherwise, under the directory's
lock, list, select, check the space, download over up to `connections` connections (files side by side, large
ones in ranged parts; resuming what an earlier run left; an image layer is unpacked),
then write the manifest and, last, the completion marker."""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from genai_model_loader.buckets import BucketSource
from genai_model_loader.cache_dir import (
    MANIFEST,
    MARKER,
    add_reference,
    exclusive_lock,
    marker_matches,
    now_iso,
    prune_old_revisions,
    read_json,
    write_json_atomic,
)
from genai_model_loader.errors import LoaderError, Reason
from genai_model_loader.file_selection import select_files
from genai_model_loader.huggingface import HubSource
from genai_model_loader.limits import from_env
from genai_model_loader.local_files import LocalSource
from genai_model_loader.oci_registry import OciSource
from genai_model_loader.part_state import journal_done
from genai_model_loader.plan import PlanItem
from genai_model_loader.progress import ItemProgress, format_bytes
from genai_model_loader.remote_files import RESERVED_PREFIX, FetchedFile, RemoteFile, Source
from genai_model_loader.retry import RetryPolicy
from genai_model_loader.source_uris import BucketRef, HubRef, OciRef, parse_source, revision_of, without_revision
from genai_model_loader.transfer import Transfer

log = logging.getLogger(__name__)
# What dest is being filled with, written before the first byte: a later run for other content must not resume
# (or keep) these files.
FILLING = f"{RESERVED_PREFIX}filling.json"


def open_source(item: PlanItem, env: Mapping[str, str], policy: RetryPolicy, transfer: Transfer) -> Source:
    ref = parse_source(item.uri)
    if isinstance(ref, HubRef):
        return HubSource(ref, item.name, env, policy, transfer)
    if isinstance(ref, BucketRef):
        return BucketSource(ref, item.name, env, policy, transfer=transfer)
    if isinstance(ref, OciRef):
        return OciSource(ref, item.name, env, policy, transfer)
    return LocalSource(ref)


def open_transfer(item: PlanItem, env: Mapping[str, str]) -> Transfer:
    """The plan's `connections` wins over LOADER_CONNECTIONS (both bounded, checked before anything is fetched)."""
    limits = from_env(env)
    return Transfer(item.connections or limits.connections, limits.part_bytes)


def fetch(item: PlanItem, env: Mapping[str, str], policy: RetryPolicy) -> tuple[bool, int]:
    """(cache hit, bytes in dest) once the item is in place."""
    dest = Path(item.dest)
    add_reference(dest, item.owner)  # before the marker is read: see cache_dir._remove_unless_used
    marker = marker_matches(dest, item)
    if marker:
        return True, _log_hit(item, dest, marker, "")
    transfer = open_transfer(item, env)
    source = open_source(item, env, policy, transfer)
    with exclusive_lock(dest, item.name):
        marker = marker_matches(dest, item)
        if marker:
            return True, _log_hit(item, dest, marker, ", filled by another replica")
        try:
            total = _fill(item, dest, source, transfer)
        finally:
            transfer.close()
        add_reference(dest, item.owner)  # again: a pruner may have taken the first one with an older dest
    if item.keep:
        prune_old_revisions(dest, item.keep, item.name, item.owner)
    return False, total


def _fill(item: PlanItem, dest: Path, source: Source, transfer: Transfer) -> int:
    started = time.monotonic()
    listing = source.list_files()
    ref = parse_source(item.uri)
    wanted_file = item.file or (ref.path if isinstance(ref, HubRef) else None)
    selected = select_files(
        listing.files, file=wanted_file, gguf_type=item.gguf_type, default_filter=source.default_filter
    )
    record = {"uri": item.uri, **item.selection}
    dest.mkdir(parents=True, exist_ok=True)
    _forget_other_content(dest, record)
    write_json_atomic(dest / FILLING, record)
    total = sum(f.size or 0 for f in selected)
    _check_space(dest, total, sum(max((f.size or 0) - _on_disk(dest, f), 0) for f in selected))
    log.info(
        "%s: fetching %d files, %s, from %s into %s over up to %d connections",
        item.name,
        len(selected),
        format_bytes(total),
        item.uri,
        dest,
        transfer.connections,
    )
    progress = ItemProgress(item.name, total)
    fetched = _in_dest(
        transfer.each(
            lambda f: source.fetch(f, dest / f.path, progress.file(f.path)), selected, source.concurrent_files
        )
    )
    stored = sum(f.size for f in fetched)  # what dest holds: more than was listed when a layer was unpacked
    completed = now_iso()
    write_json_atomic(
        dest / MANIFEST,
        {
            **record,
            "source": without_revision(item.uri),
            "revision": revision_of(item.uri),
            "sha": listing.resolved_sha,
            "completedAt": completed,
            "bytes": stored,
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in fetched],
        },
    )
    if item.link:
        _link_gguf(dest, item.link, [f.path for f in fetched])
    write_json_atomic(dest / MARKER, {**record, "completedAt": completed, "bytes": stored, "files": len(fetched)})
    (dest / FILLING).unlink(missing_ok=True)
    log.info("%s", progress.summary(len(fetched), "cache miss", time.monotonic() - started))
    return stored


def _in_dest(fetched: list[FetchedFile]) -> list[FetchedFile]:
    """The files dest holds: an unpacked archive stands for its files, a later layer's copy of a path wins."""
    by_path: dict[str, FetchedFile] = {}
    for f in fetched:
        for kept in f.unpacked if f.unpacked is not None else (f,):
            by_path[kept.path] = kept
    return list(by_path.values())


def _link_gguf(dest: Path, link: str, paths: list[str]) -> None:
    """A fixed name for the GGUF file the engine loads: llama.cpp takes the first part of a split model and
    finds the others beside it. Relative, so it resolves wherever the volume is mounted."""
    ggufs = sorted(p for p in paths if p.lower().endswith(".gguf"))
    if not ggufs:
        raise LoaderError(Reason.NOT_FOUND, f"no .gguf file among the fetched files to link as {link}")
    first = next((p for p in ggufs if "-00001-of-" in p), ggufs[0])
    target = dest / link
    temporary = dest / f".{link}.tmp"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(first)
    os.replace(temporary, target)


def _forget_other_content(dest: Path, record: dict[str, Any]) -> None:
    """Empty dest unless what is in it is (part of) this very content; the marker goes first."""
    described = read_json(dest / FILLING) or read_json(dest / MARKER)
    same = described is not None and all(described.get(k) == v for k, v in record.items())
    if same or not any(dest.iterdir()):
        return
    log.info("%s holds other content (%s); emptying it", dest, (described or {}).get("uri", "unknown"))
    (dest / MARKER).unlink(missing_ok=True)
    for child in dest.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _on_disk(dest: Path, remote: RemoteFile) -> int:
    """Bytes of this file an earlier run already left (whole, or in its .part)."""
    target = dest / remote.path
    in_parts = journal_done(target, remote)
    if in_parts is not None:
        return in_parts
    for path in (target, target.with_name(target.name + ".part")):
        if path.is_file():
            size = path.stat().st_size
            return size if remote.size is None or size <= remote.size else 0
    return 0


def _check_space(dest: Path, total: int, remaining: int) -> None:
    free = shutil.disk_usage(dest.parent).free
    if remaining > free:
        raise LoaderError(
            Reason.NO_SPACE,
            f"the files need {format_bytes(remaining)} more ({format_bytes(total)} "
            f"in all) but the cache volume at {dest.parent} has {format_bytes(free)} free; raise the "
            "pool's cache size",
        )


def _log_hit(item: PlanItem, dest: Path, marker: dict[str, Any], how: str) -> int:
    size = marker.get("bytes")
    amount = format_bytes(size) if isinstance(size, int) else "size unknown"
    log.info(
        "%s: cache hit at %s (%s, %s files, completed %s%s)",
        item.name,
        dest,
        amount,
        marker.get("files", "?"),
        marker.get("completedAt", "?"),
        how,
    )
    return size if isinstance(size, int) else 0
