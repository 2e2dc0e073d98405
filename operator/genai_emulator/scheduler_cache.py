"""The simulated scheduler's cache and queue, like kube-scheduler's: kept from pod changes, not recounted.

Recounting every pod on every scheduling pass made the emulator's cost O(pods x passes), which grows
when pods arrive spread over seconds (one pass each) rather than in one burst. Here each pod change
costs O(1) and a pass looks only at the pending pods.

What a pod counts as (the semantics the full recount had):
- on its node's usage: bound (spec.nodeName) and not terminal, even while it is being deleted;
- pending: not bound, not terminal and not being deleted;
- unstarted: bound, not terminal, Pending without startTime (the kubelet has not seen it yet; a pod held
  in its init containers is Pending too, but has a startTime).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from genai_emulator.quantities import Resources
from genai_emulator.scheduling import NodeUsage, pod_requests

Key = tuple[str | None, str]
TERMINAL = ("Succeeded", "Failed")


@dataclasses.dataclass(frozen=True, slots=True)
class _Placement:
    node: str
    requests: Resources  # as added to the node's usage, so removing it subtracts exactly that


class SchedulerCache:
    def __init__(self) -> None:
        self.usage: dict[str, NodeUsage] = {}
        self.pending: set[Key] = set()
        # Bound pods the kubelet has not started; the controller takes them off once it has queued them.
        self.unstarted: set[Key] = set()
        self._placed: dict[Key, _Placement] = {}
        self._by_node: dict[str, dict[Key, None]] = {}  # insertion-ordered, for the pod GC
        self._requests: dict[Key, tuple[Any, Resources]] = {}

    def update(self, pod: Mapping[str, Any], *, deleted: bool = False) -> None:
        """Account for the pod's latest version (or its removal from the store)."""
        meta = pod["metadata"]
        key: Key = (meta.get("namespace"), str(meta["name"]))
        if deleted:
            self._unplace(key)
            self.pending.discard(key)
            self.unstarted.discard(key)
            self._requests.pop(key, None)
            return
        status = pod.get("status") or {}
        node, phase = (pod.get("spec") or {}).get("nodeName"), status.get("phase")
        live = phase not in TERMINAL
        if node and live:
            self._place(key, str(node), pod)
        else:
            self._unplace(key)
        _toggle(self.pending, key, not node and live and not meta.get("deletionTimestamp"))
        _toggle(self.unstarted, key, bool(node) and phase in (None, "Pending") and not status.get("startTime"))

    def requests(self, pod: Mapping[str, Any]) -> Resources:
        """Cached while the pod's spec is the same object (status writes share it; binding copies it)."""
        meta, spec = pod["metadata"], pod.get("spec")
        key: Key = (meta.get("namespace"), str(meta["name"]))
        cached = self._requests.get(key)
        if cached is None or cached[0] is not spec:
            cached = self._requests[key] = (spec, pod_requests(pod))
        return cached[1]

    def pods_on(self, node: str) -> list[Key]:
        """The pods counted on the node (a copy: deleting them changes the cache)."""
        return list(self._by_node.get(node, ()))

    def _place(self, key: Key, node: str, pod: Mapping[str, Any]) -> None:
        requests = self.requests(pod)
        current = self._placed.get(key)
        if current is not None and current.node == node and current.requests is requests:
            return  # a status write: nothing changed for the node
        self._unplace(key)
        self.usage.setdefault(node, NodeUsage()).add(requests)
        self._placed[key] = _Placement(node, requests)
        self._by_node.setdefault(node, {})[key] = None

    def _unplace(self, key: Key) -> None:
        placement = self._placed.pop(key, None)
        if placement is None:
            return
        usage = self.usage[placement.node]
        usage.remove(placement.requests)
        if not usage.pods:
            del self.usage[placement.node]
        on_node = self._by_node[placement.node]
        del on_node[key]
        if not on_node:
            del self._by_node[placement.node]


def _toggle(keys: set[Key], key: Key, member: bool) -> None:
    if member:
        keys.add(key)
    else:
        keys.discard(key)
