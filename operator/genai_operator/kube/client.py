"""The only place that reads and writes API objects: a small generic REST client over the operator's session.

Children are plain dicts of many kinds (apps, policy, autoscaling, keda.sh...), so instead of one typed
API class per kind the client sends dicts to the paths `Resource` builds. Coroutines on the event loop
(session.py says why not the `kubernetes` client's threads).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kubernetes import client as k8s_client

from genai_operator import FIELD_MANAGER
from genai_operator.api.resources import LEASES, Resource
from genai_operator.kube.session import ApiError, ApiSession

log = logging.getLogger(__name__)

WriteHook = Callable[[str, Resource], None]
_FIELD_MANAGED = {"fieldManager": FIELD_MANAGER}


class KubeClient:
    """Generic client; every call is a coroutine. Share one per event loop (it holds a connection pool)."""

    def __init__(
        self,
        configuration: k8s_client.Configuration | ApiSession,
        on_write: WriteHook | None = None,
        *,
        remember_versions: frozenset[str] = frozenset(),
    ) -> None:
        self.session = configuration if isinstance(configuration, ApiSession) else ApiSession(configuration)
        self.on_write = on_write
        # The resourceVersion of our last successful write, per object of these plurals: the watch event
        # that echoes it back carries nothing new, so the caller can skip a reconcile (see controller/runtime.py).
        self.remember_versions = remember_versions
        self._written: dict[tuple[str, str | None, str], str] = {}
        self._fenced: str | None = None  # why writes are refused (leadership lost), if they are

    def fence(self, reason: str) -> None:
        """Refuse every further write except to Leases: this instance is no longer the leader, and a
        reconcile still in flight must not write over the new leader's work."""
        self._fenced = reason

    def may_write(self) -> bool:
        """False once fenced: calls that change state elsewhere (engine_proxy.py) stop too."""
        return self._fenced is None

    def written_version(self, res: Resource, namespace: str | None, name: str) -> str | None:
        return self._written.get((res.plural, namespace, name))

    def forget_version(self, res: Resource, namespace: str | None, name: str) -> None:
        self._written.pop((res.plural, namespace, name), None)

    async def close(self) -> None:
        await self.session.close()

    # -- reads ---------------------------------------------------------------------------------------
    async def get(
        self, res: Resource, namespace: str | None, name: str, subresource: str | None = None
    ) -> dict[str, Any] | None:
        try:
            return await self.session.request("GET", res.path(namespace, name, subresource))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def list(
        self, res: Resource, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        params = {"labelSelector": label_selector} if label_selector else None
        result = await self.session.request("GET", res.path(namespace), params=params)
        items: list[dict[str, Any]] = result.get("items") or []
        return items

    async def exists_api(self, group: str, version: str) -> bool:
        """Discovery of an API group version (e.g. keda.sh/v1alpha1); needs no RBAC."""
        try:
            await self.session.request("GET", f"/apis/{group}/{version}")
            return True
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise

    # -- writes --------------------------------------------------------------------------------------
    async def create(self, res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        namespace = obj["metadata"].get("namespace")
        return await self._write("POST", res, res.path(namespace), obj)

    async def replace(self, res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        return await self._write("PUT", res, res.path(meta.get("namespace"), meta["name"]), obj)

    async def patch(
        self, res: Resource, namespace: str | None, name: str, patch: dict[str, Any], subresource: str | None = None
    ) -> dict[str, Any]:
        return await self._write(
            "PATCH", res, res.path(namespace, name, subresource), patch, content_type="application/merge-patch+json"
        )

    async def delete(self, res: Resource, namespace: str | None, name: str, uid: str | None = None) -> bool:
        """Delete with background propagation (children go by garbage collection); False if already gone."""
        body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        if uid:
            body["preconditions"] = {"uid": uid}  # never delete a same-named object we do not own
        try:
            await self._write("DELETE", res, res.path(namespace, name), body)
            return True
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise

    async def _write(
        self, method: str, res: Resource, path: str, body: dict[str, Any], content_type: str = "application/json"
    ) -> dict[str, Any]:
        if self._fenced is not None and res is not LEASES:
            raise ApiError(0, "NotLeader", self._fenced)
        if self.on_write is not None:
            self.on_write(method, res)
        params = _FIELD_MANAGED if method in ("POST", "PUT", "PATCH") else None
        result = await self.session.request(method, path, params=params, body=body, content_type=content_type)
        if res.plural in self.remember_versions:
            meta = result.get("metadata") or {}
            key = (res.plural, meta.get("namespace"), str(meta.get("name")))
            if method == "DELETE" or not meta.get("resourceVersion"):
                self._written.pop(key, None)
            else:
                self._written[key] = str(meta["resourceVersion"])
        return result
