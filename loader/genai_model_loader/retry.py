"""Retries with exponential backoff for what a later attempt can fix: dropped connections, timeouts, 5xx and 429
(whose Retry-After is honoured). Everything else fails at once."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import TypeVar

from genai_model_loader.errors import LoaderError, Reason

log = logging.getLogger(__name__)
T = TypeVar("T")


class TransientError(Exception):
    """A failure worth another attempt; `retry_after` is the server's own wait in seconds, when it sent one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    # A server asking for more than this is treated as asking for this: an init container that sleeps for an
    # hour looks hung.
    max_retry_after: float = 300.0
    timeout: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        # Jitter, so replicas that failed together do not retry together.
        return float(min(self.base_delay * 2 ** (attempt - 1), self.max_delay) * random.uniform(0.8, 1.2))


def with_retries(action: Callable[[], T], policy: RetryPolicy, what: str, hint: str) -> T:
    """Run `action` until it returns or raises something other than TransientError, at most `policy.attempts`
    times; after the last attempt the TransientError becomes a NetworkError saying `hint`."""
    attempt = 1
    while True:
        try:
            return action()
        except TransientError as err:
            if attempt >= policy.attempts:
                raise LoaderError(Reason.NETWORK_ERROR, f"{what} failed {attempt} times (last: {err}); {hint}") from err
            wait = policy.delay(attempt, err.retry_after)
            log.warning("%s: %s; attempt %d of %d in %.1fs", what, err, attempt + 1, policy.attempts, wait)
            policy.sleep(wait)
            attempt += 1


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After is either seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None
