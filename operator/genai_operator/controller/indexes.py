"""Indexes in the shape of Kopf's: key -> the values every object filed under it, one kind of key per index.

Ours (informers.py fills them from our own watches) and Kopf's (nodes, PlacementPools) are read alike,
through one `Indices` mapping.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Iterator, Mapping
from typing import Any, TypeVar

from genai_operator.kube.watch import ObjectKey

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Index(Mapping[K, Collection[V]]):
    """Key -> the values filed under it by every object, like a Kopf index. Values are live views: read
    them before the next await, as with Kopf's stores. One kind of key per index."""

    def __init__(self) -> None:
        self._stores: dict[K, dict[ObjectKey, V]] = {}
        self._entries: dict[ObjectKey, dict[K, V]] = {}

    def __getitem__(self, key: K) -> Collection[V]:
        return self._stores[key].values()

    def get(self, key: K, default: Any = None) -> Any:
        store = self._stores.get(key)
        return default if store is None else store.values()

    def __iter__(self) -> Iterator[K]:
        return iter(self._stores)

    def __len__(self) -> int:
        return len(self._stores)

    def file(self, obj: ObjectKey, entries: dict[K, V] | None) -> dict[K, V] | None:
        """Replace what `obj` files (None: nothing); returns what it filed before."""
        old = self._entries.pop(obj, None)
        for key in old or ():
            store = self._stores[key]
            del store[obj]
            if not store:
                del self._stores[key]
        if entries:
            self._entries[obj] = entries
            for key, value in entries.items():
                self._stores.setdefault(key, {})[obj] = value
        return old


class Indices(Mapping[str, Any]):
    """Our indexes first, then Kopf's (which Kopf fills in when the operator starts)."""

    def __init__(self, ours: Mapping[str, Index[Any, Any]], kopf: Mapping[str, Any]) -> None:
        self.ours, self.kopf = ours, kopf

    def __getitem__(self, name: str) -> Any:
        index = self.ours.get(name)
        return index if index is not None else self.kopf[name]

    def __iter__(self) -> Iterator[str]:
        yield from self.ours
        yield from (name for name in self.kopf if name not in self.ours)

    def __len__(self) -> int:
        return len(self.ours) + sum(1 for name in self.kopf if name not in self.ours)
