"""JSON of stored objects, encoded once per version and shared by write answers and watch streams.

Like the apiserver's watch cache, which serializes an object once for all its watchers: a write's
answer and the watch event that follows carry the same object, and stored objects are never changed
in place (every write stores a new dict), so the bytes can be reused. Encoding each twice was a tenth
of the emulator's CPU in bench/ with an operator watching what it writes.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any


class EncodedObjects:
    def __init__(self, size: int = 4096) -> None:
        self.size = size
        # id(obj) -> (obj, its resourceVersion, JSON): the object is held so its id cannot be reused meanwhile.
        self._cache: OrderedDict[int, tuple[Mapping[str, Any], Any, bytes]] = OrderedDict()

    def encode(self, obj: Mapping[str, Any]) -> bytes:
        version = (obj.get("metadata") or {}).get("resourceVersion")
        entry = self._cache.get(id(obj))
        if entry is not None and entry[0] is obj and entry[1] == version:
            return entry[2]
        data = json.dumps(obj).encode()
        self._cache[id(obj)] = (obj, version, data)
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)
        return data


ENCODED = EncodedObjects()  # one per process: entries are keyed by object identity, so emulators cannot mix
