"""CEL validation rules attached to API models, rendered into `x-kubernetes-validations`.

The same rule also runs in Python (see the model validators) so the CLI and the operator reject what
`kubectl apply` would reject, with the same message.
"""

from __future__ import annotations

from typing import Any


def rule(
    expression: str, message: str, *, field_path: str | None = None, reason: str = "FieldValueInvalid"
) -> dict[str, Any]:
    """One `x-kubernetes-validations` entry."""
    entry: dict[str, Any] = {"rule": expression, "message": message, "reason": reason}
    if field_path:
        entry["fieldPath"] = field_path
    return entry


def validations(*rules: dict[str, Any]) -> dict[str, Any]:
    """The `json_schema_extra` of a model carrying these rules."""
    return {"x-kubernetes-validations": list(rules)}
