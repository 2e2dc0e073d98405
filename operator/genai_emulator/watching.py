"""Watch streams over HTTP: initial state, resume from a resourceVersion, selectors, drops."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp.web

from genai_emulator import errors
from genai_emulator.encoding import ENCODED
from genai_emulator.events import ExpiredError, WatchEvent
from genai_emulator.operations import Store
from genai_emulator.resources import ResourceSpec
from genai_emulator.selectors import FieldRequirement, Requirement, match_fields, match_labels

logger = logging.getLogger(__name__)

# The annotation that ends the initial events of a `sendInitialEvents=true` watch (KEP-3157).
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


@dataclasses.dataclass(frozen=True)
class WatchQuery:
    spec: ResourceSpec
    namespace: str | None
    labels: list[Requirement]
    fields: list[FieldRequirement]
    resource_version: str | None
    send_initial_events: bool
    bookmarks: bool
    timeout: float | None

    def selects(self, obj: Mapping[str, Any] | None) -> bool:
        if obj is None:
            return False
        meta = obj.get("metadata") or {}
        if self.namespace is not None and meta.get("namespace") != self.namespace:
            return False
        return match_labels(self.labels, meta.get("labels")) and match_fields(self.fields, obj)

    def translate(self, event: WatchEvent) -> tuple[str, Mapping[str, Any]] | None:
        """What a watcher with these selectors sees of an event (objects may enter or leave)."""
        if event.type == "MODIFIED":
            now, before = self.selects(event.obj), self.selects(event.old)
            if now:
                return ("MODIFIED" if before else "ADDED"), event.obj
            return ("DELETED", event.obj) if before else None
        return (event.type, event.obj) if self.selects(event.obj) else None

    def render(self, obj: Mapping[str, Any]) -> Mapping[str, Any]:
        """Serve stored objects under the requested version of a multi-version resource."""
        if obj.get("apiVersion") != self.spec.api_version:
            return {**obj, "apiVersion": self.spec.api_version}
        return obj


class WatchStream:
    def __init__(self, store: Store, query: WatchQuery) -> None:
        self._store = store
        self._query = query
        storage = store.registry.storage_spec(query.spec)
        self._resource = (storage.group, storage.plural)

    def check(self) -> int | None:
        """Validate before the stream starts, so bad input still gets a plain HTTP error."""
        rv = self._query.resource_version
        if rv in (None, "", "0") or self._query.send_initial_events:
            return None
        try:
            return int(str(rv))
        except ValueError:
            raise errors.bad_request(f"invalid resourceVersion: {rv!r}") from None

    async def serve(self, raw: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        cursor = self.check()
        response = aiohttp.web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(raw)
        try:
            await self._stream(response, cursor)
            await response.write_eof()
        except (ConnectionError, RuntimeError):  # the client went away mid-stream
            logger.debug("Watch client disconnected: %s", raw.path_qs)
        return response

    async def _stream(self, response: aiohttp.web.StreamResponse, cursor: int | None) -> None:
        query, events = self._query, self._store.events
        epoch = events.epoch
        loop = asyncio.get_running_loop()
        deadline = loop.time() + query.timeout if query.timeout else None
        if cursor is None:
            cursor = self._store.resource_version
            initial = [obj for obj in self._store.items(query.spec, query.namespace) if query.selects(obj)]
            initial.sort(key=lambda o: (o["metadata"].get("namespace") or "", o["metadata"]["name"]))
            for obj in initial:
                await self._send(response, "ADDED", obj)
            if query.send_initial_events and query.bookmarks:
                await self._send(
                    response,
                    "BOOKMARK",
                    {
                        "apiVersion": query.spec.api_version,
                        "kind": query.spec.kind,
                        "metadata": {"resourceVersion": str(cursor), "annotations": {INITIAL_EVENTS_END: "true"}},
                    },
                )
        while True:
            try:
                pending = events.since(self._resource, cursor)
            except ExpiredError as exc:
                await self._send(response, "ERROR", errors.ApiError(410, str(exc), reason="Expired").status())
                return
            lines = []
            for event in pending:
                cursor = event.resource_version
                seen = query.translate(event)
                if seen is not None:
                    lines.append(self._line(seen[0], seen[1]))
            if lines:  # one write per burst, not per event: a client reads them in one go either way
                await response.write(b"".join(lines))
            if events.epoch != epoch:
                return  # drop_watches(): end the stream, the client must reconnect
            waiter = events.waiter(self._resource)
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return
            try:
                await asyncio.wait_for(waiter.wait(), remaining)
            except TimeoutError:
                return

    async def _send(self, response: aiohttp.web.StreamResponse, kind: str, obj: Mapping[str, Any]) -> None:
        await response.write(self._line(kind, obj))

    def _line(self, kind: str, obj: Mapping[str, Any]) -> bytes:
        rendered = self._query.render(obj)
        # The same bytes as json.dumps({'type': kind, 'object': rendered}), with the object encoded once.
        encoded = ENCODED.encode(rendered) if rendered is obj else json.dumps(rendered).encode()
        return b'{"type": ' + json.dumps(kind).encode() + b', "object": ' + encoded + b"}\n"
