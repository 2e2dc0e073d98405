"""The simulated kubelet: starts bound pods and reports their containers, init containers first."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from genai_emulator.bookkeeping import now_rfc3339
from genai_emulator.init_containers import KubeletFaults, observed_outcome, started_status
from genai_emulator.operations import Store
from genai_emulator.resources import ResourceSpec

_TERMINAL = ("Succeeded", "Failed")


class Kubelet:
    def __init__(self, store: Store, pods: ResourceSpec, nodes: ResourceSpec, faults: KubeletFaults) -> None:
        self.store = store
        self.faults = faults
        self._pods = pods
        self._nodes = nodes
        self._ips = itertools.count(2)

    def start(self, namespace: str | None, name: str) -> None:
        """Run a bound pod: its init containers (per the fault rules), then its containers."""
        pod = self.store.get(self._pods, namespace, name)
        if pod is None or not _node(pod) or pod["metadata"].get("deletionTimestamp"):
            return
        self._write(pod, self.faults.outcome(pod))

    def resync(self) -> None:
        """After the fault rules changed: move started pods to what the rules now say, and only those."""
        for pod in list(self.store.items(self._pods)):
            status = pod.get("status") or {}
            if not _node(pod) or status.get("phase") in _TERMINAL or pod["metadata"].get("deletionTimestamp"):
                continue
            observed = observed_outcome(pod)
            if observed is None:
                continue  # not started yet: start() applies the rules when its time comes
            wanted = self.faults.outcome(pod)
            if wanted != observed:
                self._write(pod, wanted)

    def _write(self, pod: Mapping[str, Any], outcome: tuple[Any, ...]) -> None:
        status = pod.get("status") or {}
        # The sandbox keeps its IP across container restarts; a new pod gets the next free one.
        pod_ip = status.get("podIP") or self._next_ip()
        host_ip = status.get("hostIP") or self._host_ip(str(_node(pod)))
        new = started_status(pod, outcome, host_ip=str(host_ip), pod_ip=str(pod_ip), now=now_rfc3339())
        self.store.write_status(self._pods, pod, new)

    def _next_ip(self) -> str:
        serial = next(self._ips)
        return f"10.244.{serial // 250 % 250}.{serial % 250 + 1}"

    def _host_ip(self, node_name: str) -> str:
        node = self.store.get(self._nodes, None, node_name)
        addresses = ((node or {}).get("status") or {}).get("addresses") or []
        return str(next((a.get("address") for a in addresses if a.get("type") == "InternalIP"), "10.0.0.1"))


def _node(obj: Mapping[str, Any] | None) -> str | None:
    return ((obj or {}).get("spec") or {}).get("nodeName")
