"""The PATCH flavours of the Kubernetes API: JSON merge, strategic merge, JSON patch.

All functions return a new document and never mutate their inputs, since the stored
versions of an object are shared with watch events.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"

# Strategic-merge keys of the Kubernetes types an operator usually touches; lists of objects
# not listed here merge by `name` when every item has one, else they are replaced.
_MERGE_KEYS: dict[str, str] = {
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
}
# Primitive lists with patchStrategy=merge (union) rather than replace.
_MERGED_PRIMITIVE_LISTS = frozenset({"finalizers"})


class PatchError(ValueError):
    """The patch cannot be applied (answered as 422 by the API)."""


class PatchFormatError(ValueError):
    """The patch document is malformed (answered as 400 by the API)."""


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null deletes, everything else replaces."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result: dict[str, Any] = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any, field: str = "") -> Any:
    """Merge patch, plus merging of keyed lists the way kubectl/Kubernetes do for built-ins."""
    if isinstance(patch, Mapping):
        if patch.get("$patch") == "replace":
            return {k: copy.deepcopy(v) for k, v in patch.items() if not k.startswith("$")}
        if patch.get("$patch") == "delete":
            return None
        result: dict[str, Any] = dict(target) if isinstance(target, Mapping) else {}
        for key, value in patch.items():
            if key.startswith("$"):
                continue  # directives such as $setElementOrder/$retainKeys: order is not emulated
            if value is None:
                result.pop(key, None)
            else:
                merged = strategic_merge_patch(result.get(key), value, key)
                if merged is None:
                    result.pop(key, None)
                else:
                    result[key] = merged
        return result
    if isinstance(patch, list) and isinstance(target, list):
        if field in _MERGED_PRIMITIVE_LISTS and all(not isinstance(v, Mapping) for v in patch):
            return list(target) + [v for v in patch if v not in target]
        key = _merge_key(field, target, patch)
        if key is not None:
            return _merge_keyed_lists(target, patch, key)
    return copy.deepcopy(patch)


def _merge_key(field: str, target: list[Any], patch: list[Any]) -> str | None:
    items = [*target, *patch]
    if not items or not all(isinstance(item, Mapping) for item in items):
        return None
    candidates = [_MERGE_KEYS[field]] if field in _MERGE_KEYS else []
    if field == "ports":
        candidates = ["containerPort", "port"]
    candidates.append("name")
    for key in candidates:
        if all(key in item for item in items if item.get("$patch") != "delete" or key in item):
            return key
    return None


def _merge_keyed_lists(target: list[Any], patch: list[Any], key: str) -> list[Any]:
    result: list[Any] = list(target)
    for item in patch:
        index = next((i for i, old in enumerate(result) if old.get(key) == item.get(key)), None)
        if item.get("$patch") == "delete":
            if index is not None:
                del result[index]
        elif index is None:
            result.append(strategic_merge_patch({}, item))
        else:
            result[index] = strategic_merge_patch(result[index], item)
    return result


def json_patch(target: Any, operations: Any) -> Any:
    """RFC 6902 with add, remove, replace, move, copy and test."""
    if not isinstance(operations, list):
        raise PatchFormatError("a JSON patch must be a list of operations")
    doc = copy.deepcopy(target)
    for op in operations:
        if not isinstance(op, Mapping) or "op" not in op or "path" not in op:
            raise PatchFormatError(f"malformed JSON patch operation: {op!r}")
        doc = _apply_operation(doc, op)
    return doc


def _apply_operation(doc: Any, op: Mapping[str, Any]) -> Any:
    kind = op["op"]
    path = _pointer(op["path"])
    if kind == "test":
        if _get(doc, path) != op.get("value"):
            raise PatchError(f"testing value {op['path']} failed")
        return doc
    if kind == "remove":
        return _remove(doc, path)
    if kind in ("add", "replace"):
        if "value" not in op:
            raise PatchFormatError(f"{kind} operation on {op['path']} has no value")
        if kind == "replace":
            _get(doc, path)  # must exist
            doc = _remove(doc, path)
        return _add(doc, path, copy.deepcopy(op["value"]))
    if kind in ("move", "copy"):
        source = _pointer(str(op.get("from", "")))
        value = copy.deepcopy(_get(doc, source))
        if kind == "move":
            doc = _remove(doc, source)
        return _add(doc, path, value)
    raise PatchFormatError(f"unsupported JSON patch operation: {kind!r}")


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchFormatError(f"invalid JSON pointer: {path!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _get(doc: Any, path: Sequence[str]) -> Any:
    for part in path:
        if isinstance(doc, Mapping) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            raise PatchError(f"path /{'/'.join(path)} does not exist")
    return doc


def _add(doc: Any, path: Sequence[str], value: Any) -> Any:
    if not path:
        return value
    parent = _get(doc, path[:-1])
    last = path[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise PatchError(f"index {last} is out of range")
    else:
        raise PatchError(f"cannot add to a scalar at /{'/'.join(path)}")
    return doc


def _remove(doc: Any, path: Sequence[str]) -> Any:
    if not path:
        return None
    parent = _get(doc, path[:-1])
    last = path[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        del parent[int(last)]
    else:
        raise PatchError(f"path /{'/'.join(path)} does not exist")
    return doc
