"""The HTTP face of the store: routes resource URLs to verbs and renders answers."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp.web
import yaml

from genai_emulator import errors, patching
from genai_emulator.encoding import ENCODED
from genai_emulator.operations import Store
from genai_emulator.resources import ResourceSpec
from genai_emulator.routing import Target
from genai_emulator.selectors import (
    FieldRequirement,
    SelectorError,
    match_fields,
    match_labels,
    parse_field_selector,
    parse_label_selector,
)
from genai_emulator.watching import WatchQuery, WatchStream

logger = logging.getLogger(__name__)

_SUBRESOURCES = ("status", "scale")
# Built-ins whose DELETE answers the deleted object (ReturnDeletedObject); the rest answer a Status.
_RETURNS_DELETED_OBJECT = frozenset(
    {
        ("", "pods"),
        ("", "services"),
        ("", "serviceaccounts"),
        ("", "persistentvolumeclaims"),
        ("", "persistentvolumes"),
        ("", "resourcequotas"),
        ("", "podtemplates"),
    }
)


def json_answer(
    body: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> aiohttp.web.Response:
    return aiohttp.web.json_response(body, status=status, headers=headers)


def object_answer(spec: ResourceSpec, obj: Mapping[str, Any], status: int = 200) -> aiohttp.web.Response:
    """One stored object, as json_answer would send it, with its JSON shared with the watch streams."""
    if obj.get("apiVersion") != spec.api_version:
        return json_answer({**obj, "apiVersion": spec.api_version}, status)
    return aiohttp.web.Response(
        body=ENCODED.encode(obj), status=status, content_type="application/json", charset="utf-8"
    )


def error_answer(error: errors.ApiError) -> aiohttp.web.Response:
    return json_answer(error.status(), error.code, error.headers)


class HttpApi:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def serve(self, raw: aiohttp.web.BaseRequest, target: Target, body: bytes) -> aiohttp.web.StreamResponse:
        try:
            return await self._dispatch(raw, target, body)
        except errors.ApiError as exc:
            return error_answer(exc)
        except SelectorError as exc:
            return error_answer(errors.bad_request(str(exc)))

    async def _dispatch(self, raw: aiohttp.web.BaseRequest, target: Target, body: bytes) -> aiohttp.web.StreamResponse:
        spec = self._spec(target)
        params = dict(raw.query)
        method = raw.method.upper()
        namespace = target.namespace
        if target.name is None:
            if method == "GET" and params.get("watch") in ("true", "1"):
                return await self._watch(raw, spec, namespace, None, params)
            if method == "GET":
                return json_answer(self._list(spec, namespace, params))
            if method == "POST":
                if spec.namespaced and namespace is None:
                    raise errors.ApiError(405, f"{spec.group_resource} is namespaced: POST to a namespace")
                created = self.store.create(spec, namespace, self._object(raw, body))
                return object_answer(spec, created, 201)
            if method == "DELETE":
                return json_answer(self._delete_collection(spec, namespace, params, raw, body))
            raise errors.ApiError(405, f"{method} is not allowed on a collection")

        name = target.name
        if target.subresource is None:
            if method == "GET" and params.get("watch") in ("true", "1"):
                return await self._watch(raw, spec, namespace, name, params)
            if method == "GET":
                return object_answer(spec, self._get(spec, namespace, name))
            if method == "PUT":
                replaced = self.store.replace(spec, namespace, name, self._object(raw, body))
                return object_answer(spec, replaced)
            if method == "PATCH":
                existed = self.store.get(spec, namespace, name) is not None  # apply patches may create
                patched = self.store.patch(spec, namespace, name, raw.content_type, self._body(raw, body, yaml_ok=True))
                return object_answer(spec, patched, 200 if existed else 201)
            if method == "DELETE":
                return json_answer(self._delete(spec, namespace, name, params, raw, body))
            raise errors.ApiError(405, f"{method} is not allowed on an object")

        sub = target.subresource
        if sub not in _SUBRESOURCES or sub not in spec.subresources:
            raise errors.ApiError(404, f"{spec.group_resource} has no subresource {sub!r}")
        if method == "GET":
            result = self._get(spec, namespace, name)
        elif method == "PUT":
            result = self.store.replace(spec, namespace, name, self._object(raw, body), subresource=sub)
        elif method == "PATCH":
            result = self.store.patch(
                spec, namespace, name, raw.content_type, self._body(raw, body, yaml_ok=True), subresource=sub
            )
        else:
            raise errors.ApiError(405, f"{method} is not allowed on {sub}")
        if sub == "scale":
            return json_answer(self.store.scale_of(spec, result))
        return object_answer(spec, result)

    # -- verbs with more than a line ----------------------------------------------------------

    def _spec(self, target: Target) -> ResourceSpec:
        assert target.plural is not None  # only resource URLs are routed here
        spec = self.store.registry.lookup(target.group, target.version, target.plural)
        if spec is None:
            raise errors.ApiError(404, "the server could not find the requested resource")
        if target.namespace is not None and not spec.namespaced:
            raise errors.ApiError(404, f"{spec.group_resource} is cluster-scoped")
        if target.name is not None and spec.namespaced and target.namespace is None:
            raise errors.ApiError(404, f"{spec.group_resource} is namespaced: the URL needs a namespace")
        return spec

    def _get(self, spec: ResourceSpec, namespace: str | None, name: str) -> dict[str, Any]:
        current = self.store.get(spec, namespace, name)
        if current is None:
            raise errors.not_found(spec, name)
        return current

    def _list(self, spec: ResourceSpec, namespace: str | None, params: Mapping[str, str]) -> dict[str, Any]:
        labels = parse_label_selector(params.get("labelSelector"))
        fields = parse_field_selector(params.get("fieldSelector"))
        items = [
            obj
            for obj in self.store.items(spec, namespace)
            if match_labels(labels, obj["metadata"].get("labels")) and match_fields(fields, obj)
        ]
        items.sort(key=_sort_key)
        resource_version = self.store.resource_version
        metadata: dict[str, Any] = {}
        if token := params.get("continue"):
            try:
                state = json.loads(base64.urlsafe_b64decode(token.encode()))
                resource_version, after = int(state["rv"]), tuple(state["after"])
            except (ValueError, KeyError, TypeError):
                raise errors.bad_request("invalid continue token") from None
            items = [obj for obj in items if _sort_key(obj) > after]
        limit = int(params.get("limit") or 0)
        if 0 < limit < len(items):
            items = items[:limit]
            state = {"rv": resource_version, "after": list(_sort_key(items[-1]))}
            metadata["continue"] = base64.urlsafe_b64encode(json.dumps(state).encode()).decode()
        metadata["resourceVersion"] = str(resource_version)
        return {
            "apiVersion": spec.api_version,
            "kind": f"{spec.kind}List",
            "metadata": metadata,
            "items": [self._render(spec, obj) for obj in items],
        }

    def _delete(
        self,
        spec: ResourceSpec,
        namespace: str | None,
        name: str,
        params: Mapping[str, str],
        raw: aiohttp.web.BaseRequest,
        body: bytes,
    ) -> dict[str, Any]:
        options = self._object(raw, body) if body.strip() else {}
        propagation = options.get("propagationPolicy") or params.get("propagationPolicy")
        if options.get("orphanDependents") or params.get("orphanDependents") == "true":
            propagation = "Orphan"
        result = self.store.delete(
            spec, namespace, name, propagation=propagation, preconditions=options.get("preconditions")
        )
        still_there = self.store.get(spec, namespace, name) is not None  # waiting for finalizers
        # A custom resource deleted at once is answered with a Status too (seen on kube-apiserver 1.36).
        if still_there or (spec.group, spec.plural) in _RETURNS_DELETED_OBJECT:
            return self._render(spec, result)
        meta = result["metadata"]
        return errors.status_body(
            200, "", reason="", details={"name": name, "group": spec.group, "kind": spec.plural, "uid": meta.get("uid")}
        )

    def _delete_collection(
        self,
        spec: ResourceSpec,
        namespace: str | None,
        params: Mapping[str, str],
        raw: aiohttp.web.BaseRequest,
        body: bytes,
    ) -> dict[str, Any]:
        unpaged = {k: v for k, v in params.items() if k not in ("limit", "continue")}
        listed = self._list(spec, namespace, unpaged)
        for obj in listed["items"]:
            meta = obj["metadata"]
            if self.store.get(spec, meta.get("namespace"), meta["name"]) is not None:
                self._delete(spec, meta.get("namespace"), meta["name"], params, raw, body)
        return listed

    async def _watch(
        self,
        raw: aiohttp.web.BaseRequest,
        spec: ResourceSpec,
        namespace: str | None,
        name: str | None,
        params: Mapping[str, str],
    ) -> aiohttp.web.StreamResponse:
        query = self._watch_query(spec, namespace, name, params)
        return await WatchStream(self.store, query).serve(raw)

    def _watch_query(
        self, spec: ResourceSpec, namespace: str | None, name: str | None, params: Mapping[str, str]
    ) -> WatchQuery:
        fields = parse_field_selector(params.get("fieldSelector"))
        if name is not None:
            fields.append(FieldRequirement(("metadata", "name"), name, False))
        timeout = params.get("timeoutSeconds")
        return WatchQuery(
            spec=spec,
            namespace=namespace,
            fields=fields,
            labels=parse_label_selector(params.get("labelSelector")),
            resource_version=params.get("resourceVersion"),
            send_initial_events=params.get("sendInitialEvents") == "true",
            bookmarks=params.get("allowWatchBookmarks") == "true",
            timeout=float(timeout) if timeout else None,
        )

    @staticmethod
    def _render(spec: ResourceSpec, obj: Mapping[str, Any]) -> dict[str, Any]:
        if obj.get("apiVersion") != spec.api_version:
            return {**obj, "apiVersion": spec.api_version}
        return dict(obj)

    @classmethod
    def _object(cls, raw: aiohttp.web.BaseRequest, body: bytes) -> dict[str, Any]:
        parsed = cls._body(raw, body)
        if not isinstance(parsed, dict):
            raise errors.bad_request("the request body must be a JSON object")
        return parsed

    @staticmethod
    def _body(raw: aiohttp.web.BaseRequest, body: bytes, *, yaml_ok: bool = False) -> Any:
        try:
            if yaml_ok and raw.content_type == patching.APPLY_PATCH:
                return yaml.safe_load(body.decode("utf-8"))
            return json.loads(body.decode("utf-8") or "null")
        except (ValueError, yaml.YAMLError) as exc:
            raise errors.bad_request(f"the request body is not valid: {exc}") from exc


def _sort_key(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj["metadata"]
    return (meta.get("namespace") or "", meta["name"])
