"""The failures the loader reports, each with the reason word the termination log starts with."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """The first word of the termination-log line (what `kubectl describe pod` shows as the reason)."""

    UNAUTHORIZED = "Unauthorized"
    FORBIDDEN = "Forbidden"
    NOT_FOUND = "NotFound"
    CHECKSUM_MISMATCH = "ChecksumMismatch"
    SIZE_MISMATCH = "SizeMismatch"
    NO_SPACE = "NoSpace"
    NETWORK_ERROR = "NetworkError"
    INVALID_SOURCE = "InvalidSource"
    NO_MODEL_FILES = "NoModelFiles"
    INVALID_PLAN = "InvalidPlan"


class LoaderError(Exception):
    """A failure of one plan item; `detail` says what happened and the fix, without the item's name and uri
    (the runner adds those once, so every message names them the same way)."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class PlanError(ValueError):
    """The --plan argument is not a plan (exit code 2: the operator rendered something this loader cannot read)."""


def credentials_field(item_name: str) -> str:
    """Where the user names the Secret for this item, for the fix in a message."""
    if item_name.startswith("adapter:"):  # adapters are fetched with the model's credentials
        return f"spec.model.credentialsSecret (also used for adapter {item_name.removeprefix('adapter:')})"
    return "spec.model.credentialsSecret"
