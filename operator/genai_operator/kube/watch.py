"""List-then-watch of one resource over plain aiohttp: the informer loop behind the children and pods indexes.

Kopf's watching costs a fixed amount of work per event (per-object workers, causes, handler kwargs) that
was about half of the operator's CPU in bench/, for streams we only index. This loop does what
client-go's reflector does and no more: list (with a label selector), deliver every object, watch from
the list's resourceVersion with bookmarks and a server-side timeout, resume from the last version seen
when the stream ends, relist on 410 Gone (dropping what vanished meanwhile), back off on errors.

The connection is the operator's one ApiSession (session.py).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from typing import Any, Protocol

import aiohttp
import orjson

from genai_operator.api.resources import Resource
from genai_operator.kube.session import ApiError, ApiSession

log = logging.getLogger(__name__)

ObjectKey = tuple[str | None, str]  # (namespace, name)


class WatchSink(Protocol):
    def changed(self, obj: dict[str, Any], deleted: bool) -> None:
        """An object was added, modified or deleted (its last state)."""

    def vanished(self, key: ObjectKey) -> None:
        """An object delivered before is gone, seen by a relist (its deletion event was missed)."""


class Backoff:
    """Exponential with jitter, reset after a success."""

    def __init__(self, first: float = 0.2, cap: float = 30.0) -> None:
        self.first, self.cap, self._next = first, cap, first

    def reset(self) -> None:
        self._next = self.first

    def next(self) -> float:
        delay, self._next = self._next, min(self._next * 2, self.cap)
        return delay * random.uniform(0.8, 1.2)


class Watcher:
    """Keeps a sink current with one resource, in one namespace (or all of them when `namespace` is None)."""

    def __init__(
        self,
        session: ApiSession,
        resource: Resource,
        sink: WatchSink,
        *,
        namespace: str | None = None,
        label_selector: str | None = None,
        server_timeout: int = 600,
        backoff: Backoff | None = None,
    ) -> None:
        self.session = session
        self.resource = resource
        self.sink = sink
        self.namespace = namespace
        self.label_selector = label_selector
        self.server_timeout = server_timeout
        self.backoff = backoff or Backoff()
        self.synced = asyncio.Event()  # set once the first list is delivered
        self.relists = 0  # lists after the first (for tests and logs)
        self._known: dict[ObjectKey, str | None] = {}  # resourceVersion delivered, per object
        # Where to resume: the last version seen, even in a stream that then failed (None: relist).
        self._version: str | None = None

    def __repr__(self) -> str:
        return f"<Watcher {self.resource.plural} in {self.namespace or 'all namespaces'}>"

    async def run(self) -> None:
        self._version = None
        while True:
            try:
                if self._version is None:
                    self._version = await self._relist()
                    self.synced.set()
                started = asyncio.get_running_loop().time()
                delivered = await self._watch(self._version)
                if delivered or asyncio.get_running_loop().time() - started > 1.0:
                    self.backoff.reset()
                    continue
                delay = self.backoff.next()  # a stream that ends at once, again and again: do not spin
            except ApiError as exc:
                if exc.status == 410:
                    log.info("%r: resourceVersion expired; relisting", self)
                    self._version = None
                    continue
                delay = max(self.backoff.next(), exc.retry_after or 0.0)
                log.warning("%r: %s; retrying in %.1fs", self, exc, delay)
            except (aiohttp.ClientError, OSError, ValueError) as exc:  # TimeoutError is an OSError
                delay = self.backoff.next()
                log.warning("%r: %s: %s; retrying in %.1fs", self, type(exc).__name__, exc, delay)
            await asyncio.sleep(delay)

    def forget_all(self) -> None:
        """Everything delivered is gone (the resource's API went away)."""
        for key in list(self._known):
            del self._known[key]
            self.sink.vanished(key)

    def _params(self) -> dict[str, str]:
        return {"labelSelector": self.label_selector} if self.label_selector else {}

    async def _relist(self) -> str:
        async with self.session.get(self.resource.path(self.namespace), self._params(), 60.0) as response:
            data = await response.json(loads=orjson.loads, content_type=None)
        if self.synced.is_set():
            self.relists += 1
        seen: set[ObjectKey] = set()
        for item in data.get("items") or ():
            # Items of a list carry no kind or apiVersion (the list does); children are keyed by kind.
            item.setdefault("kind", self.resource.kind)
            item.setdefault("apiVersion", self.resource.api_version)
            seen.add(self._deliver("ADDED", item))
        for key in [k for k in self._known if k not in seen]:
            del self._known[key]
            self.sink.vanished(key)
        # Without one (not seen from a real server), the watch starts with the current state instead.
        return str((data.get("metadata") or {}).get("resourceVersion") or "")

    async def _watch(self, version: str) -> bool:
        """One watch stream from `version`; whether it delivered anything."""
        params = {
            **self._params(),
            "watch": "true",
            "resourceVersion": version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(self.server_timeout),
        }
        delivered = False
        # The client gives up a minute after the server should have ended the stream.
        async with self.session.get(self.resource.path(self.namespace), params, self.server_timeout + 60) as response:
            async for line in _lines(response.content):
                event = orjson.loads(line)  # watch events are most of what the operator decodes
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        raise ApiError(410, str(obj.get("reason") or "Expired"), str(obj.get("message") or ""))
                    raise ApiError(int(obj.get("code") or 0), str(obj.get("reason")), str(obj.get("message")))
                self._version = (obj.get("metadata") or {}).get("resourceVersion") or self._version
                if kind != "BOOKMARK":
                    self._deliver(kind, obj)
                    delivered = True
        return delivered

    def _deliver(self, kind: str, obj: dict[str, Any]) -> ObjectKey:
        meta = obj.get("metadata") or {}
        key: ObjectKey = (meta.get("namespace"), str(meta.get("name")))
        if kind == "DELETED":
            self._known.pop(key, None)
            self.sink.changed(obj, True)
            return key
        version = meta.get("resourceVersion")
        if version is not None and self._known.get(key) == version:
            return key  # seen already (a relist of an unchanged object)
        self._known[key] = version
        self.sink.changed(obj, False)
        return key


async def _lines(stream: aiohttp.StreamReader) -> AsyncIterator[bytes]:
    """Newline-delimited JSON of any line length (aiohttp's readline caps a line at its buffer limit)."""
    buffer = b""
    async for chunk in stream.iter_any():
        buffer += chunk
        if b"\n" in chunk:
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                if line.strip():
                    yield line
    if buffer.strip():
        yield buffer
