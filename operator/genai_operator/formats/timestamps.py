"""RFC 3339 timestamps in UTC the way Kubernetes writes them, and back to epoch seconds.

Status fields are metav1.Time, whole seconds ("2026-01-01T00:00:00Z"); Lease renewals are metav1.MicroTime,
with microseconds ("2026-01-01T00:00:00.000000Z"). Pure: callers read the clock and pass epoch seconds.
"""

from __future__ import annotations

import datetime

_SECONDS = "%Y-%m-%dT%H:%M:%SZ"
_MICROSECONDS = "%Y-%m-%dT%H:%M:%S.%fZ"


def to_stamp(epoch: float) -> str:
    """A metav1.Time: RFC 3339 in UTC, whole seconds."""
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime(_SECONDS)


def to_micro_stamp(epoch: float) -> str:
    """A metav1.MicroTime: RFC 3339 in UTC with microseconds."""
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime(_MICROSECONDS)


def to_epoch(stamp: str | None) -> float | None:
    """Epoch seconds of an RFC 3339 timestamp (either form); None for none or an empty one."""
    if not stamp:
        return None
    return datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
