"""The OpenAPI checks kube-apiserver makes on a custom resource after pruning and defaulting: types, enums,
required fields and numeric and length bounds, worded as its field errors are. CEL rules are not evaluated here
(tests/crd_validation.py and the real control plane tier do that)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def schema_errors(obj: Any, schema: Mapping[str, Any], path: str = "") -> Iterator[str]:
    """Field errors of `obj` against a structural schema, as `path: Reason: detail` lines."""
    if obj is None:
        return
    if not schema.get("x-kubernetes-int-or-string"):
        expected = schema.get("type")
        allowed = _TYPES.get(str(expected))
        if allowed and (not isinstance(obj, allowed) or (bool not in allowed and isinstance(obj, bool))):
            yield f'{path}: Invalid value: "{_kind(obj)}": {path} in body must be of type {expected}: "{_kind(obj)}"'
            return
    enum = schema.get("enum")
    if enum is not None and obj not in enum:
        values = ", ".join(f'"{v}"' for v in enum)
        yield f'{path}: Unsupported value: "{obj}": supported values: {values}'
    yield from _bounds(obj, schema, path)
    if isinstance(obj, dict):
        properties: Mapping[str, Any] = schema.get("properties") or {}
        for name in schema.get("required") or []:
            if name not in obj:
                yield f"{_join(path, name)}: Required value"
        additional = schema.get("additionalProperties")
        for key, value in obj.items():
            sub = properties.get(key, additional if isinstance(additional, Mapping) else None)
            if isinstance(sub, Mapping) and not (path == "" and key in ("apiVersion", "kind", "metadata")):
                yield from schema_errors(value, sub, _join(path, key))
    elif isinstance(obj, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(obj):
            yield from schema_errors(item, schema["items"], f"{path}[{index}]")


def _bounds(obj: Any, schema: Mapping[str, Any], path: str) -> Iterator[str]:
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        if "minimum" in schema and obj < schema["minimum"]:
            yield f"{path}: Invalid value: {obj}: {path} in body should be greater than or equal to {schema['minimum']}"
        if "maximum" in schema and obj > schema["maximum"]:
            yield f"{path}: Invalid value: {obj}: {path} in body should be less than or equal to {schema['maximum']}"
    if isinstance(obj, str) and "maxLength" in schema and len(obj) > schema["maxLength"]:
        yield f"{path}: Too long: may not be more than {schema['maxLength']} bytes"
    if isinstance(obj, list) and "maxItems" in schema and len(obj) > schema["maxItems"]:
        yield f"{path}: Too many: {len(obj)}: must have at most {schema['maxItems']} items"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(obj: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean"}.get(type(obj), "number")
