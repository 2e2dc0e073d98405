"""What a test may do to the emulated cluster: fail API requests, fail or hold init containers, drop watches.

A mixin of `ClusterEmulator` (emulator.py), which owns the state these act on.
"""

from __future__ import annotations

from genai_emulator.faults import FaultInjector, FaultRule
from genai_emulator.init_containers import InitRule, KubeletFaults
from genai_emulator.operations import Store


class FaultControls:
    faults: FaultInjector
    kubelet_faults: KubeletFaults
    store: Store

    def fail_next(
        self,
        count: int,
        status: int,
        *,
        method: str | None = None,
        resource: str | None = None,
        namespace: str | None = None,
        name: str | None = None,
    ) -> FaultRule:
        """Answer the next `count` matching API requests with `status` and a Status body."""
        return self.faults.add(FaultRule(count, status, method, resource, namespace, name))

    def fail_init_container(
        self,
        namespace: str | None,
        match: str = "",
        *,
        container: str = "model-loader",
        exit_code: int = 1,
        reason: str = "Error",
        message: str = "",
    ) -> InitRule:
        """Matching pods, now and later, report init container `container` exiting with `exit_code` (then
        CrashLoopBackOff). `match`: a pod-name prefix, or a label selector (`app=x`); '' matches all."""
        return self.kubelet_faults.add(InitRule("fail", namespace, match, container, exit_code, reason, message))

    def hold_init_containers(self, namespace: str | None, match: str = "", *, container: str | None = None) -> InitRule:
        """Matching pods stay Pending with init container `container` (None: the first) running."""
        return self.kubelet_faults.add(InitRule("hold", namespace, match, container))

    def clear_init_failures(self) -> None:
        """Drop every fail rule: the pods they held back run their init containers to completion."""
        self.kubelet_faults.clear("fail")

    def release_init_containers(self) -> None:
        """Drop every hold rule (see :meth:`hold_init_containers`)."""
        self.kubelet_faults.clear("hold")

    def drop_watches(self) -> None:
        """End every open watch stream; clients have to reconnect (and resume or relist)."""
        self.store.events.drop_all()
