"""The only place that talks HTTP to the API server: a small generic REST client on the `kubernetes` client.

Children are plain dicts of many kinds (apps, policy, autoscaling, keda.sh...), so instead of one typed
API class per kind the client sends dicts through `ApiClient.call_api`, keeping the `kubernetes`
package's configuration, authentication, TLS and connection pooling.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from kubernetes import client as k8s_client
from kubernetes import config as k8s_config

from genai_operator import FIELD_MANAGER
from genai_operator.kube.resources import Resource

log = logging.getLogger(__name__)

# Statuses worth retrying: conflicts of optimistic concurrency, throttling, server trouble.
TRANSIENT_STATUSES = frozenset({409, 429, 500, 502, 503, 504})
REQUEST_TIMEOUT = (5.0, 30.0)  # connect, read


@dataclass
class ApiError(Exception):
    status: int
    reason: str
    message: str
    retry_after: float | None = None

    def __str__(self) -> str:
        return f"{self.status} {self.reason}: {self.message}"

    @property
    def transient(self) -> bool:
        return self.status in TRANSIENT_STATUSES or self.status == 0


WriteHook = Callable[[str, Resource], None]


def load_configuration(kubeconfig: str | None = None) -> k8s_client.Configuration:
    """In-cluster config when running in a pod, else the given (or default) kubeconfig file."""
    configuration = k8s_client.Configuration()
    if kubeconfig is None:
        try:
            k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
            return configuration
        except k8s_config.ConfigException:
            pass
    k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
        config_file=kubeconfig, client_configuration=configuration
    )
    return configuration


class KubeClient:
    """Synchronous, thread-safe (urllib3 pool) generic client. Call from worker threads, not the event loop."""

    def __init__(
        self,
        configuration: k8s_client.Configuration,
        on_write: WriteHook | None = None,
        *,
        remember_versions: frozenset[str] = frozenset(),
    ) -> None:
        # Pool as many connections as worker threads may use at once.
        configuration.connection_pool_maxsize = max(configuration.connection_pool_maxsize or 4, 16)
        self.api = k8s_client.ApiClient(configuration)
        self.on_write = on_write
        # The resourceVersion of our last successful write, per object of these plurals: the watch event
        # that echoes it back carries nothing new, so the caller can skip a reconcile (see runtime.py).
        self.remember_versions = remember_versions
        self._written: dict[tuple[str, str | None, str], str] = {}

    def written_version(self, res: Resource, namespace: str | None, name: str) -> str | None:
        return self._written.get((res.plural, namespace, name))

    def forget_version(self, res: Resource, namespace: str | None, name: str) -> None:
        self._written.pop((res.plural, namespace, name), None)

    def close(self) -> None:
        self.api.close()  # type: ignore[no-untyped-call]

    # -- reads ---------------------------------------------------------------------------------------
    def get(
        self, res: Resource, namespace: str | None, name: str, subresource: str | None = None
    ) -> dict[str, Any] | None:
        try:
            return self._call("GET", res.path(namespace, name, subresource))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def list(
        self, res: Resource, namespace: str | None = None, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        query = {"labelSelector": label_selector} if label_selector else None
        result = self._call("GET", res.path(namespace), query=query)
        items: list[dict[str, Any]] = result.get("items") or []
        return items

    def exists_api(self, group: str, version: str) -> bool:
        """Discovery of an API group version (e.g. keda.sh/v1alpha1); needs no RBAC."""
        try:
            self._call("GET", f"/apis/{group}/{version}")
            return True
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise

    # -- writes --------------------------------------------------------------------------------------
    def create(self, res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        namespace = obj["metadata"].get("namespace")
        return self._write("POST", res, res.path(namespace), obj)

    def replace(self, res: Resource, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        return self._write("PUT", res, res.path(meta.get("namespace"), meta["name"]), obj)

    def patch(
        self, res: Resource, namespace: str | None, name: str, patch: dict[str, Any], subresource: str | None = None
    ) -> dict[str, Any]:
        return self._write(
            "PATCH", res, res.path(namespace, name, subresource), patch, content_type="application/merge-patch+json"
        )

    def delete(self, res: Resource, namespace: str | None, name: str, uid: str | None = None) -> bool:
        """Delete with background propagation (children go by garbage collection); False if already gone."""
        body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        if uid:
            body["preconditions"] = {"uid": uid}  # never delete a same-named object we do not own
        try:
            self._write("DELETE", res, res.path(namespace, name), body)
            return True
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise

    # -- transport -----------------------------------------------------------------------------------
    def _write(
        self, method: str, res: Resource, path: str, body: dict[str, Any], content_type: str = "application/json"
    ) -> dict[str, Any]:
        if self.on_write is not None:
            self.on_write(method, res)
        query = {"fieldManager": FIELD_MANAGER} if method in ("POST", "PUT", "PATCH") else None
        result = self._call(method, path, body=body, query=query, content_type=content_type)
        if res.plural in self.remember_versions:
            meta = result.get("metadata") or {}
            key = (res.plural, meta.get("namespace"), str(meta.get("name")))
            if method == "DELETE" or not meta.get("resourceVersion"):
                self._written.pop(key, None)
            else:
                self._written[key] = str(meta["resourceVersion"])
        return result

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        query: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        if query:
            path = f"{path}?{urlencode(query)}"
        headers = {"Accept": "application/json", "Content-Type": content_type}
        method_, url, headers_, body_, post = self.api.param_serialize(
            method=method, resource_path=path, header_params=headers, body=body, auth_settings=["BearerToken"]
        )
        try:
            response = self.api.call_api(method_, url, headers_, body_, post, _request_timeout=REQUEST_TIMEOUT)
            response.read()  # type: ignore[no-untyped-call]
        except k8s_client.ApiException as exc:
            raise ApiError(exc.status or 0, str(exc.reason), str(exc.body or "")) from None
        except Exception as exc:  # urllib3 connection and protocol errors: the server is unreachable
            raise ApiError(0, "ConnectionError", str(exc)) from None
        data = response.data or b"{}"
        status = response.status
        if not 200 <= status <= 299:
            retry_after = response.getheader("Retry-After")  # type: ignore[no-untyped-call]
            raise error_from_response(status, data, retry_after)
        parsed: dict[str, Any] = json.loads(data) if data else {}
        return parsed


def error_from_response(status: int, data: bytes, retry_after: str | None) -> ApiError:
    try:
        payload = json.loads(data)
    except ValueError:
        payload = {}
    delay = float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else None
    return ApiError(status, str(payload.get("reason") or "Error"), str(payload.get("message") or data[:200]), delay)
