"""What a test may read back from the emulated cluster: the objects our operator owns, the requests it made.

A mixin of `ClusterEmulator` (emulator.py), which owns the store and the request records.
"""

from __future__ import annotations

import builtins
import collections
import copy
from typing import Any

from genai_emulator.operations import Store
from genai_emulator.resources import GENAI_GROUP, Registry
from genai_emulator.routing import RequestRecord


class Inspection:
    registry: Registry
    store: Store
    _records: collections.deque[RequestRecord]

    def owned_objects(self, owner_group: str | None = GENAI_GROUP) -> builtins.list[dict[str, Any]]:
        """Objects with an owner reference into `owner_group` (None: any owner), sorted by kind/name."""
        found = []
        for spec in self.registry:
            if self.registry.storage_spec(spec) is not spec:
                continue  # one version per multi-version resource
            for obj in self.store.items(spec):
                refs = obj["metadata"].get("ownerReferences") or []
                if any(
                    owner_group is None or str(ref.get("apiVersion", "")).split("/")[0] == owner_group for ref in refs
                ):
                    found.append(copy.deepcopy(obj))
        found.sort(key=lambda o: (o["kind"], o["metadata"].get("namespace") or "", o["metadata"]["name"]))
        return found

    def children_summary(self, owner_group: str | None = GENAI_GROUP) -> dict[str, builtins.list[str]]:
        """`{kind: [namespace/name, ...]}` of :meth:`owned_objects`."""
        summary: dict[str, builtins.list[str]] = {}
        for obj in self.owned_objects(owner_group):
            meta = obj["metadata"]
            name = f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else meta["name"]
            summary.setdefault(obj["kind"], []).append(name)
        return summary

    def recorded_requests(
        self,
        *,
        verb: str | None = None,
        resource: str | None = None,
        namespace: str | None = None,
        name: str | None = None,
        subresource: str | None = None,
    ) -> builtins.list[RequestRecord]:
        return [
            r
            for r in self._records
            if r.matches(verb=verb, resource=resource, namespace=namespace, name=name, subresource=subresource)
        ]

    def clear_recorded_requests(self) -> None:
        self._records.clear()
