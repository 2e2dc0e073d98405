"""Test support: what `kubectl apply` checks against our CRD, without a cluster.

Structural schema (types, enums, patterns, bounds, required) through jsonschema, then the API server's
defaulting, then every `x-kubernetes-validations` CEL rule evaluated with cel-python on the defaulted
object, the way the API server does it: each rule against the value at its schema node.
"""

from __future__ import annotations

import copy
from typing import Any

import celpy
import jsonschema
from pydantic import ValidationError

from genai_operator.api.loading import describe_validation_error
from genai_operator.api.modeldeployment import ModelDeployment

_ENV = celpy.Environment()
_PROGRAMS: dict[str, Any] = {}


def _to_jsonschema(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _to_jsonschema(v) for k, v in node.items() if not k.startswith("x-kubernetes")}
        if node.get("x-kubernetes-int-or-string"):
            out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
        return out
    if isinstance(node, list):
        return [_to_jsonschema(v) for v in node]
    return node


def apply_defaults(schema: dict[str, Any], value: Any) -> Any:
    """Structural defaulting: fill `default`s of absent properties, recursively, as the API server does."""
    if isinstance(value, dict) and "properties" in schema:
        for name, sub in schema["properties"].items():
            if name not in value and "default" in sub:
                value[name] = copy.deepcopy(sub["default"])
            if name in value:
                value[name] = apply_defaults(sub, value[name])
    elif isinstance(value, list) and "items" in schema:
        return [apply_defaults(schema["items"], v) for v in value]
    return value


def _program(rule: str) -> Any:
    if rule not in _PROGRAMS:
        _PROGRAMS[rule] = _ENV.program(_ENV.compile(rule))
    return _PROGRAMS[rule]


def cel_errors(schema: dict[str, Any], value: Any, path: str = "") -> list[str]:
    errors = []
    for entry in schema.get("x-kubernetes-validations", []):
        if not bool(_program(entry["rule"]).evaluate({"self": celpy.json_to_cel(value)})):
            errors.append(f"{path or '<root>'}: {entry['message']}")
    if isinstance(value, dict):
        for name, sub in (schema.get("properties") or {}).items():
            if name in value:
                errors += cel_errors(sub, value[name], f"{path}.{name}")
    elif isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            errors += cel_errors(schema["items"], item, f"{path}[{index}]")
    return errors


def admission_errors(crd: dict[str, Any], obj: dict[str, Any]) -> list[str]:
    """Every reason the API server would reject `obj` for this CRD (empty: it would be admitted)."""
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    obj = copy.deepcopy(obj)
    validator = jsonschema.Draft7Validator(_to_jsonschema(schema))
    errors = [f"{'.'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in validator.iter_errors(obj)]
    if errors:
        return errors
    return cel_errors(schema, apply_defaults(schema, obj))


def assert_rejected_alike(crd: dict[str, Any], obj: dict[str, Any], message: str, case: str = "") -> None:
    """`kubectl apply` (this CRD) and the ModelDeployment models (the CLI, the operator) both refuse `obj`
    with `message`."""
    crd_errors = admission_errors(crd, obj)
    assert any(message in error for error in crd_errors), f"{case}: {crd_errors}"
    try:
        ModelDeployment.model_validate(obj)
    except ValidationError as exc:
        assert message in " ".join(describe_validation_error(exc)), f"{case}: {exc}"
    else:
        raise AssertionError(f"{case}: the models admitted what the CRD rejects")
