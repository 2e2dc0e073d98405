"""What a test may do for warm standby: play KEDA's part on a ScaledObject, and read the fake engines' state.

A mixin of `ClusterEmulator` (emulator.py), which owns the store and the pod proxy (pod_proxy.py).
"""

from __future__ import annotations

import builtins
from typing import Any

from genai_emulator.operations import Store
from genai_emulator.pod_proxy import EngineCall, PodProxy

SCALED_OBJECTS = "keda.sh/v1alpha1/scaledobjects"


class StandbyControls:
    store: Store
    pod_proxy: PodProxy

    def set_scaled_object_active(
        self, namespace: str, name: str, active: bool, *, last_active_time: str | None = None
    ) -> dict[str, Any]:
        """What KEDA reports: Ready, and Active while a trigger is above its activation threshold
        (`lastActiveTime`: when it last was, as KEDA stamps it on every active poll)."""
        spec = self.store.registry.resolve(SCALED_OBJECTS)
        obj = self.store.get(spec, namespace, name)
        if obj is None:
            raise LookupError(f"no ScaledObject {namespace}/{name}")
        status = dict(obj.get("status") or {})
        status["conditions"] = [
            {"type": "Ready", "status": "True", "reason": "ScaledObjectReady", "message": "ScaledObject is ready"},
            {
                "type": "Active",
                "status": "True" if active else "False",
                "reason": "ScalerActive" if active else "ScalerNotActive",
                "message": "Scaling is performed because triggers are active"
                if active
                else "Scaling is not performed because triggers are not active",
            },
        ]
        if last_active_time is not None:
            status["lastActiveTime"] = last_active_time
        return dict(self.store.apply({**obj, "status": status}))

    def sleeping_pods(self, namespace: str) -> builtins.list[str]:
        """Pods whose fake engine was put to sleep and not woken since."""
        return sorted(pod for ns, pod in self.pod_proxy.sleeping if ns == namespace)

    def engine_calls(self, namespace: str | None = None) -> builtins.list[EngineCall]:
        """Every request that went through the pod proxy, in order."""
        return [c for c in self.pod_proxy.calls if namespace is None or c.namespace == namespace]
