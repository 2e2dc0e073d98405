"""Kubernetes API errors and their `Status` bodies.

Clients decide how to react from the HTTP code and `reason` (Kopf's APIConflictError, the
kubernetes client's ApiException), so these mirror what kube-apiserver answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from genai_emulator.resources import ResourceSpec

REASONS: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class ApiError(Exception):
    def __init__(
        self,
        code: int,
        message: str,
        *,
        reason: str | None = None,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details = dict(details or {})
        self.headers = dict(headers or {})

    def status(self) -> dict[str, Any]:
        return status_body(self.code, self.message, reason=self.reason, details=self.details)


def status_body(code: int, message: str, *, reason: str, details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Status",
        "metadata": {},
        "status": "Success" if code < 400 else "Failure",
        "code": code,
    }
    if message:
        body["message"] = message
    if reason:
        body["reason"] = reason
    if details:
        body["details"] = dict(details)
    return body


def _details(spec: ResourceSpec, name: str | None) -> dict[str, Any]:
    details: dict[str, Any] = {"group": spec.group, "kind": spec.plural}
    if name is not None:
        details["name"] = name
    return details


def not_found(spec: ResourceSpec, name: str) -> ApiError:
    return ApiError(404, f'{spec.group_resource} "{name}" not found', details=_details(spec, name))


def already_exists(spec: ResourceSpec, name: str) -> ApiError:
    return ApiError(
        409, f'{spec.group_resource} "{name}" already exists', reason="AlreadyExists", details=_details(spec, name)
    )


def conflict(spec: ResourceSpec, name: str, why: str) -> ApiError:
    return ApiError(
        409, f'Operation cannot be fulfilled on {spec.group_resource} "{name}": {why}', details=_details(spec, name)
    )


def stale(spec: ResourceSpec, name: str) -> ApiError:
    return conflict(
        spec, name, "the object has been modified; please apply your changes to the latest version and try again"
    )


def invalid(spec: ResourceSpec, name: str | None, why: str) -> ApiError:
    return ApiError(422, f'{spec.kind} "{name or ""}" is invalid: {why}', details=_details(spec, name))


def forbidden_fields(spec: ResourceSpec, name: str, fields: list[tuple[str, str]]) -> ApiError:
    """422 for fields an update may not change, worded and detailed as field.Forbidden errors are."""
    messages = [f"{path}: Forbidden: {detail}" for path, detail in fields]
    why = messages[0] if len(messages) == 1 else f"[{', '.join(messages)}]"
    details = _details(spec, name)
    details["causes"] = [
        {"reason": "FieldValueForbidden", "message": f"Forbidden: {detail}", "field": path} for path, detail in fields
    ]
    return ApiError(422, f'{spec.kind} "{name}" is invalid: {why}', details=details)


def forbidden(spec: ResourceSpec, name: str, why: str) -> ApiError:
    """403 from an admission plugin: `<resource> "<name>" is forbidden: <why>`."""
    return ApiError(403, f'{spec.group_resource} "{name}" is forbidden: {why}', details=_details(spec, name))


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def injected(code: int) -> ApiError:
    """An error answered by fault injection: the same shape a real apiserver would send."""
    headers: dict[str, str] = {}
    details: dict[str, Any] = {}
    if code == 429:
        headers["Retry-After"] = "1"
        details["retryAfterSeconds"] = 1
    messages = {
        409: "Operation cannot be fulfilled: the object has been modified (injected)",
        429: "Too many requests, please try again later (injected)",
        500: "Internal error occurred (injected)",
        503: "The server is currently unable to handle the request (injected)",
    }
    return ApiError(code, messages.get(code, f"Injected failure {code}"), details=details, headers=headers)
