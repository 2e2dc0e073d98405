"""Structural-schema pruning and defaulting of custom resources, as kube-apiserver does.

Without pruning, an operator that writes fields its CRD does not declare (a Kopf handler's
return value in `status.<handler>`, say) would pass against the emulator and silently lose
data on a real cluster. Types, enums and bounds are checked in schema_checks.py; CEL rules are not emulated.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

# Never pruned at the root of an object: the API machinery owns them.
_ROOT_KEEP = frozenset({"apiVersion", "kind", "metadata"})


def prune_and_default(obj: dict[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of `obj` with unknown fields dropped and schema defaults filled in."""
    result = _walk(obj, schema, root=True)
    return result if isinstance(result, dict) else obj


def _walk(value: Any, schema: Mapping[str, Any], *, root: bool = False) -> Any:
    if isinstance(value, dict):
        return _walk_object(value, schema, root=root)
    if isinstance(value, list):
        items = schema.get("items")
        if isinstance(items, Mapping):
            return [_walk(item, items) for item in value]
        return value
    return value


def _walk_object(value: dict[str, Any], schema: Mapping[str, Any], *, root: bool) -> dict[str, Any]:
    properties: Mapping[str, Any] = schema.get("properties") or {}
    additional = schema.get("additionalProperties")
    preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
    embedded = bool(schema.get("x-kubernetes-embedded-resource"))
    result: dict[str, Any] = {}
    for key, item in value.items():
        if root and key in _ROOT_KEEP:
            result[key] = item  # even when the schema declares `metadata: {type: object}`
        elif key in properties:
            if item is None and not properties[key].get("nullable"):
                continue  # pruned before defaulting, as kube-apiserver does with non-nullable nulls
            result[key] = _walk(item, properties[key])
        elif isinstance(additional, Mapping):
            result[key] = _walk(item, additional)
        elif additional is True or preserve or (embedded and key in _ROOT_KEEP):
            result[key] = item
        # else: pruned
    for key, prop in properties.items():
        if key not in result and isinstance(prop, Mapping) and "default" in prop:
            result[key] = _walk(copy.deepcopy(prop["default"]), prop)
    return result


def version_schema(crd: Mapping[str, Any], version: str) -> Mapping[str, Any] | None:
    for entry in (crd.get("spec") or {}).get("versions") or []:
        if entry.get("name") == version:
            schema = (entry.get("schema") or {}).get("openAPIV3Schema")
            return schema if isinstance(schema, Mapping) else None
    return None
