"""The API server's pod proxy for emulated pods, with a fake vLLM behind it: sleep mode's endpoints.

`/api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy/{path}` reaches the pod's server on a real cluster; here a
ready pod answers vLLM's development endpoints (POST /sleep?level=N, POST /wake_up, GET /is_sleeping) from
a per-pod sleeping flag, so warm standby can be driven end to end. A pod that does not exist answers 404 and
one that is not ready 503, as the API server does when it cannot reach the pod.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiohttp.web

from genai_emulator import errors
from genai_emulator.api import error_answer, json_answer
from genai_emulator.operations import Store
from genai_emulator.routing import Target

PROXY = "proxy"


def is_pod_proxy(target: Target | None) -> bool:
    return (
        target is not None
        and target.group == ""
        and target.plural == "pods"
        and target.name is not None
        and (target.subresource or "").split("/")[0] == PROXY
    )


@dataclass
class EngineCall:
    namespace: str
    pod: str
    method: str
    endpoint: str
    params: dict[str, str]


@dataclass
class PodProxy:
    store: Store
    sleeping: dict[tuple[str, str], int] = field(default_factory=dict)  # (namespace, pod) -> sleep level
    calls: list[EngineCall] = field(default_factory=list)

    def serve(self, method: str, target: Target, params: dict[str, str]) -> aiohttp.web.Response:
        namespace, pod = target.namespace or "default", str(target.name).split(":")[0]
        endpoint = "/".join((target.subresource or "").split("/")[1:])
        self.calls.append(EngineCall(namespace, pod, method, endpoint, dict(params)))
        obj = self.store.get(self.store.registry.resolve("v1/pods"), namespace, pod)
        if obj is None:
            return error_answer(errors.ApiError(404, f'pods "{pod}" not found'))
        if not _ready(obj):
            return error_answer(errors.ApiError(503, f'error trying to reach service: pod "{pod}" is not ready'))
        key = (namespace, pod)
        if method == "POST" and endpoint == "sleep":
            self.sleeping[key] = int(params.get("level", "1"))
            return aiohttp.web.Response(status=200)
        if method == "POST" and endpoint == "wake_up":
            self.sleeping.pop(key, None)
            return aiohttp.web.Response(status=200)
        if method == "GET" and endpoint == "is_sleeping":
            return json_answer({"is_sleeping": key in self.sleeping})
        return json_answer({"detail": "Not Found"}, 404)


def _ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
