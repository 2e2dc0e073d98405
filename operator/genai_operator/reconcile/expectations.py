"""Children this operator created whose watch event has not reached the index yet (client-go's
"expectations"). Pure bookkeeping, with the time passed in.

A pass that runs before the index has seen our own create (the create's echo lags behind an event about
another child, a pod or our status) would find the child missing and create it again: a wasted request
answered 409 AlreadyExists. The create's response stands in for the child until the index has it, or
until the TTL passes (an echo lost to a dropped watch is covered by the relist).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from genai_operator.reconcile.diff import ChildKey

TTL_SECONDS = 30.0


class CreatedChildren:
    def __init__(self, ttl: float = TTL_SECONDS) -> None:
        self.ttl = ttl
        self._by_owner: dict[Hashable, dict[ChildKey, tuple[dict[str, Any], float]]] = {}

    def remember(self, owner: Hashable, created: Iterable[tuple[ChildKey, dict[str, Any]]], now: float) -> None:
        pending = self._by_owner.setdefault(owner, {})
        for child, obj in created:
            pending[child] = (obj, now + self.ttl)
        if not pending:
            del self._by_owner[owner]

    def fill(
        self, owner: Hashable, observed: Mapping[ChildKey, dict[str, Any]], now: float
    ) -> dict[ChildKey, dict[str, Any]]:
        """`observed` plus the children created but not yet indexed; settled expectations are dropped."""
        pending = self._by_owner.get(owner)
        if not pending:
            return dict(observed)
        out = dict(observed)
        for child, (obj, deadline) in list(pending.items()):
            if child in observed or now > deadline:
                del pending[child]
            else:
                out[child] = obj
        if not pending:
            del self._by_owner[owner]
        return out

    def drop(self, owner: Hashable, children: Iterable[ChildKey]) -> None:
        """Children deleted again (say, a pool dropped right after its Deployment was created)."""
        pending = self._by_owner.get(owner, {})
        for child in children:
            pending.pop(child, None)

    def forget(self, owner: Hashable) -> None:
        self._by_owner.pop(owner, None)

    def __len__(self) -> int:
        return sum(len(p) for p in self._by_owner.values())
