"""Calls to a model pod's engine through the API server's pod proxy: vLLM's sleep and wake-up endpoints.

`POST /api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy/sleep?level=1` reaches the engine's own HTTP API
with the operator's credentials; RBAC grants `create` on `pods/proxy` (POST) and nothing more, so the
operator needs no network path to the pods and no NetworkPolicy exception. vLLM answers 200 with an empty
body. Writes are refused once this instance lost the leader Lease, like every other write.
"""

from __future__ import annotations

import logging

import orjson

from genai_operator.api.resources import PODS
from genai_operator.kube.client import KubeClient
from genai_operator.kube.session import ApiError

log = logging.getLogger(__name__)


class EngineProxy:
    """Sleep and wake-up of one pod's vLLM server; each call returns '' or the error as text."""

    def __init__(self, client: KubeClient) -> None:
        self.client = client

    async def sleep(self, namespace: str, pod: str, port: int, level: int) -> str:
        return await self._post(namespace, pod, port, "sleep", {"level": str(level)})

    async def wake_up(self, namespace: str, pod: str, port: int) -> str:
        return await self._post(namespace, pod, port, "wake_up", {})

    async def _post(self, namespace: str, pod: str, port: int, endpoint: str, params: dict[str, str]) -> str:
        if not self.client.may_write():
            return "not the leader: no calls to engines"
        path = PODS.path(namespace, f"{pod}:{port}", f"proxy/{endpoint}")
        try:
            await self.client.session.request("POST", path, params=params)
        except orjson.JSONDecodeError:
            pass  # a 2xx answer with a body that is not JSON: the engine did it
        except ApiError as exc:
            log.info("%s/%s: POST /%s through the pod proxy: %s", namespace, pod, endpoint, exc)
            return str(exc)
        return ""
