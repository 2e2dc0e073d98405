"""The per-resource event log behind watch streams.

Every write gets a global resourceVersion and lands here, so a watch can resume from any
recent resourceVersion (what clients do after a list or a dropped connection) and a watch
from a version older than the retained window answers `410 Expired`, as etcd compaction does.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

# Storage identity of a resource: (group, plural), independent of the served version.
ResourceId = tuple[str, str]


@dataclasses.dataclass(frozen=True, slots=True)
class WatchEvent:
    resource_version: int
    type: str  # ADDED, MODIFIED, DELETED
    obj: Mapping[str, Any]
    # The previous state, so selector-filtered watches can turn MODIFIED into ADDED/DELETED.
    old: Mapping[str, Any] | None


class ExpiredError(Exception):
    """The requested resourceVersion is older than the retained event window."""


class EventLog:
    def __init__(self, capacity: int = 20_000) -> None:
        self._capacity = capacity
        self._events: dict[ResourceId, list[WatchEvent]] = defaultdict(list)
        self._floor: dict[ResourceId, int] = {}  # the newest resourceVersion dropped from the log
        self._wakers: dict[ResourceId, asyncio.Event] = {}
        self._epoch = 0

    @property
    def epoch(self) -> int:
        """Incremented by :meth:`drop_all`; a watch that sees a new epoch ends its stream."""
        return self._epoch

    def append(self, resource: ResourceId, event: WatchEvent) -> None:
        events = self._events[resource]
        events.append(event)
        if len(events) > self._capacity:
            # Drop the older half at once to keep appends amortised O(1).
            cut = len(events) // 2
            self._floor[resource] = events[cut - 1].resource_version
            del events[:cut]
        self._wake(resource)

    def start(self, resource: ResourceId, resource_version: int) -> None:
        """The log of a resource served from now on (a CRD just installed) begins at `resource_version`."""
        self._floor.setdefault(resource, resource_version)

    def since(self, resource: ResourceId, resource_version: int) -> list[WatchEvent]:
        if resource_version < self._floor.get(resource, 0):
            raise ExpiredError(f"too old resource version: {resource_version}")
        events = self._events.get(resource, [])
        newer: list[WatchEvent] = []
        for event in reversed(events):  # usually only the last few events are new
            if event.resource_version <= resource_version:
                break
            newer.append(event)
        newer.reverse()
        return newer

    def waiter(self, resource: ResourceId) -> asyncio.Event:
        """An event set on the next append to this resource (or on :meth:`drop_all`)."""
        waker = self._wakers.get(resource)
        if waker is None:
            waker = self._wakers[resource] = asyncio.Event()
        return waker

    def drop_all(self) -> None:
        self._epoch += 1
        for resource in list(self._wakers):
            self._wake(resource)

    def _wake(self, resource: ResourceId) -> None:
        waker = self._wakers.pop(resource, None)
        if waker is not None:
            waker.set()
