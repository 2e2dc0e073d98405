"""The plan the operator passes with --plan: a JSON list of items, read strictly enough to catch a rendering bug
and leniently enough (unknown keys are only logged) that a newer operator field does not break an older loader."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any, Literal

from genai_model_loader.errors import PlanError
from genai_model_loader.limits import check_connections

log = logging.getLogger(__name__)

Mode = Literal["fetch", "verify"]
KNOWN_KEYS = frozenset({"name", "uri", "dest", "file", "ggufType", "mode", "keep", "link", "owner", "connections"})
# Who uses the item's cache directory (the ModelDeployment's namespace/name): a file name under <dest>.refs/.
OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}(/[A-Za-z0-9][A-Za-z0-9._-]{0,99})?")


@dataclass(frozen=True)
class PlanItem:
    """One model or adapter to fetch into (or verify at) `dest`."""

    name: str
    uri: str
    dest: str
    mode: Mode = "fetch"
    file: str | None = None
    gguf_type: str | None = None
    keep: int | None = None
    link: str | None = None  # a name in dest to link to the (first part of the) fetched GGUF file
    owner: str | None = None  # who uses dest: pruning by anyone else leaves it alone
    connections: int | None = None  # parallel connections of this item's download; None: LOADER_CONNECTIONS

    @property
    def selection(self) -> dict[str, str | None]:
        """What, besides the uri, decides which files land in dest (part of the cache key)."""
        return {"file": self.file, "ggufType": self.gguf_type}


def parse_plan(text: str) -> list[PlanItem]:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise PlanError(f"--plan is not JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
    if not isinstance(raw, list) or not raw:
        raise PlanError("--plan must be a non-empty JSON list of items")
    items = [_item(index, entry) for index, entry in enumerate(raw)]
    dests = [item.dest for item in items]
    duplicates = sorted({dest for dest in dests if dests.count(dest) > 1})
    if duplicates:
        raise PlanError(f"--plan: two items share dest {duplicates[0]}")
    return items


def _item(index: int, entry: Any) -> PlanItem:
    if not isinstance(entry, dict):
        raise PlanError(f"--plan item {index} must be a JSON object, not {type(entry).__name__}")
    where = f"--plan item {index}" + (f" ({entry['name']})" if isinstance(entry.get("name"), str) else "")
    unknown = sorted(set(entry) - KNOWN_KEYS)
    if unknown:
        log.warning("%s: ignoring unknown keys %s", where, ", ".join(unknown))
    name = _string(entry, "name", where, required=True)
    if name != "model" and not (name.startswith("adapter:") and len(name) > len("adapter:")):
        raise PlanError(f"{where}: name must be 'model' or 'adapter:<name>', not {name!r}")
    dest = _string(entry, "dest", where, required=True)
    if not dest.startswith("/"):
        raise PlanError(f"{where}: dest must be an absolute path, not {dest!r}")
    mode = entry.get("mode", "fetch")
    if mode not in ("fetch", "verify"):
        raise PlanError(f"{where}: mode must be 'fetch' or 'verify', not {mode!r}")
    keep = entry.get("keep")
    if keep is not None and (isinstance(keep, bool) or not isinstance(keep, int) or keep < 1):
        raise PlanError(f"{where}: keep must be a positive integer, not {keep!r}")
    link = _string(entry, "link", where, required=False) or None
    if link is not None and ("/" in link or link in (".", "..")):
        raise PlanError(f"{where}: link must be a file name inside dest, not {link!r}")
    owner = _string(entry, "owner", where, required=False) or None
    if owner is not None and not OWNER.fullmatch(owner):
        raise PlanError(f"{where}: owner must be <namespace>/<name> (letters, digits, '.', '_', '-'), not {owner!r}")
    connections = entry.get("connections")
    if connections is not None and (
        isinstance(connections, bool) or not isinstance(connections, int) or connections < 1
    ):
        raise PlanError(f"{where}: connections must be a positive integer, not {connections!r}")
    if connections is not None:
        check_connections(connections, f"{where}: connections")
    return PlanItem(
        connections=connections,
        owner=owner,
        link=link,
        name=name,
        uri=_string(entry, "uri", where, required=True),
        dest=dest.rstrip("/") or "/",
        mode=mode,
        file=_string(entry, "file", where, required=False) or None,
        gguf_type=_string(entry, "ggufType", where, required=False) or None,
        keep=keep,
    )


def _string(entry: dict[str, Any], key: str, where: str, *, required: bool) -> str:
    value = entry.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise PlanError(f"{where}: {key} must be a non-empty string" + ("" if value is None else f", not {value!r}"))
    return value
