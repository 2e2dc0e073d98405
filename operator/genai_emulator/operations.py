"""The write verbs on top of the store: create, replace, patch, delete, scale.

`enforce=True` applies the API rules clients get over HTTP (status subresource separation,
preconditions); the in-process helpers of tests and the simulated controllers pass False to
write exactly what they mean, as kube-controller-manager effectively can.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from genai_emulator import bookkeeping, errors, patching, validation, volumes
from genai_emulator.resources import ResourceSpec, ScaleSpec
from genai_emulator.selectors import selector_to_string
from genai_emulator.store import Body, StoreBase


class Store(StoreBase):
    def create(
        self, spec: ResourceSpec, namespace: str | None, body: Mapping[str, Any], *, enforce: bool = True
    ) -> Body:
        obj = copy.deepcopy(dict(body))
        self._check_type(spec, obj)
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            meta = obj["metadata"] = {}
        if spec.namespaced:
            body_ns = meta.get("namespace")
            if namespace and body_ns and body_ns != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            namespace = namespace or body_ns or "default"
            meta["namespace"] = namespace
        if not meta.get("name"):
            if not meta.get("generateName"):
                raise errors.invalid(spec, None, "metadata.name: Required value: name or generateName is required")
            meta["name"] = self._generate_name(spec, namespace, str(meta["generateName"]))
        name = str(meta["name"])
        if self.get(spec, namespace, name) is not None:
            raise errors.already_exists(spec, name)
        if spec.namespaced and namespace:
            self.ensure_namespace(namespace)
        self._stamp_new(spec, obj)
        if enforce and spec.status:
            obj.pop("status", None)  # status is written through /status only
        prepared = self._prepare(spec, obj, None)
        volumes.admit(self, spec, prepared, None)  # admission and validation of the kinds that have rules
        validation.validate(spec, prepared)
        return self._commit(spec, prepared, None)

    def replace(
        self,
        spec: ResourceSpec,
        namespace: str | None,
        name: str,
        body: Mapping[str, Any],
        *,
        subresource: str | None = None,
        enforce: bool = True,
    ) -> Body:
        old = self._existing(spec, namespace, name)
        given = dict(body)
        if subresource != "scale":
            self._check_type(spec, given)
        elif (given.get("apiVersion"), given.get("kind")) != ("autoscaling/v1", "Scale"):
            # What kube-apiserver answers a body without them on /scale (its default kind is the resource's).
            raise errors.bad_request("Object 'Kind' is missing or not autoscaling/v1 Scale in the request body")
        given_meta = dict(given.get("metadata") or {})
        if enforce and spec.custom and subresource != "scale" and given_meta.get("resourceVersion") in (None, ""):
            # Custom resources allow no unconditional update (kube-apiserver's customresource strategy); a Scale
            # without one updates whatever version is current.
            raise errors.invalid(
                spec, name, "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"
            )
        if given_meta.get("name", name) != name:
            raise errors.bad_request(
                f"the name of the object ({given_meta.get('name')}) does not match the name on the URL ({name})"
            )
        self._check_version(spec, old, given_meta.get("resourceVersion"))
        if subresource == "status":
            return self._update(spec, old, {**old, "status": given.get("status")}, status_only=True)
        if subresource == "scale":
            return self._write_scale(spec, old, given)
        if enforce and spec.status:
            given["status"] = old.get("status")
        given["metadata"] = given_meta
        return self._update(spec, old, given)

    def patch(
        self,
        spec: ResourceSpec,
        namespace: str | None,
        name: str,
        content_type: str,
        patch: Any,
        *,
        subresource: str | None = None,
        enforce: bool = True,
    ) -> Body:
        current = self.get(spec, namespace, name)
        if current is None and content_type == patching.APPLY_PATCH and subresource is None:
            if not isinstance(patch, Mapping):
                raise errors.bad_request("an apply patch must be an object")
            return self.create(
                spec, namespace, {**patch, "metadata": {**patch.get("metadata", {}), "name": name}}, enforce=enforce
            )
        old = self._existing(spec, namespace, name)
        base: Any = self.scale_of(spec, old) if subresource == "scale" else old
        patched = self._apply_patch(spec, base, content_type, patch)
        if not isinstance(patched, dict):
            raise errors.invalid(spec, name, "the patched object is not an object")
        self._check_version(spec, old, (patched.get("metadata") or {}).get("resourceVersion"))
        if subresource == "scale":
            return self._write_scale(spec, old, patched)
        if subresource == "status":
            return self._update(spec, old, {**old, "status": patched.get("status")}, status_only=True)
        if enforce and spec.status:
            patched["status"] = old.get("status")
        return self._update(spec, old, patched)

    def delete(
        self,
        spec: ResourceSpec,
        namespace: str | None,
        name: str,
        *,
        propagation: str | None = None,
        preconditions: Mapping[str, Any] | None = None,
    ) -> Body:
        old = self._existing(spec, namespace, name)
        meta = old["metadata"]
        preconditions = preconditions or {}
        if preconditions.get("uid") not in (None, meta.get("uid")):
            wanted, actual = preconditions["uid"], meta.get("uid")
            raise errors.conflict(
                spec, name, f"Precondition failed: UID in precondition: {wanted}, UID in object meta: {actual}"
            )
        self._check_version(spec, old, preconditions.get("resourceVersion"))
        return self.mark_deleted(spec, old, orphan=propagation == "Orphan", foreground=propagation == "Foreground")

    def apply(self, obj: Mapping[str, Any]) -> Body:
        """Create or fully replace, writing status as given (the test helper's semantics)."""
        spec = self.registry.for_object(obj)
        meta = obj.get("metadata") or {}
        namespace = (meta.get("namespace") or "default") if spec.namespaced else None
        current = self.get(spec, namespace, str(meta.get("name", "")))
        if current is None:
            return self.create(spec, namespace, obj, enforce=False)
        new = copy.deepcopy(dict(obj))
        new.setdefault("status", current.get("status"))
        new["metadata"] = {**new.get("metadata", {}), "resourceVersion": None}
        return self.replace(spec, namespace, str(meta["name"]), new, enforce=False)

    def write_status(self, spec: ResourceSpec, obj: Mapping[str, Any], status: Mapping[str, Any]) -> Body:
        """Set `.status` of the current version of `obj` (the controllers' status writes)."""
        meta = obj["metadata"]
        old = self._existing(spec, meta.get("namespace"), str(meta["name"]))
        return self._update(spec, old, {**old, "status": copy.deepcopy(dict(status))}, status_only=True)

    # -- the scale subresource ----------------------------------------------------------------

    def scale_of(self, spec: ResourceSpec, obj: Mapping[str, Any]) -> Body:
        if spec.scale is None:
            raise errors.ApiError(404, f"{spec.group_resource} has no scale subresource")
        meta = obj["metadata"]
        selector = (
            _read_path(obj, spec.scale.label_selector_path)
            if spec.scale.label_selector_path
            else selector_to_string((obj.get("spec") or {}).get("selector"))
        )
        keep = ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
        return {
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {key: meta[key] for key in keep if key in meta},
            "spec": {"replicas": _read_path(obj, spec.scale.spec_replicas_path) or 0},
            "status": {"replicas": _read_path(obj, spec.scale.status_replicas_path) or 0, "selector": selector or ""},
        }

    def _write_scale(self, spec: ResourceSpec, old: Body, scale: Mapping[str, Any]) -> Body:
        assert spec.scale is not None  # scale_of() checked it
        replicas = (scale.get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise errors.invalid(spec, old["metadata"]["name"], "spec.replicas: must be a non-negative int")
        new = _write_path(old, spec.scale.spec_replicas_path, replicas)
        return self._update(spec, old, new)

    # -- internals ----------------------------------------------------------------------------

    def _update(self, spec: ResourceSpec, old: Body, new: Mapping[str, Any], *, status_only: bool = False) -> Body:
        obj = dict(new)
        obj["apiVersion"], obj["kind"] = old.get("apiVersion"), old.get("kind")
        if obj.get("status") is None:
            obj.pop("status", None)
        meta = dict(obj.get("metadata") or {})
        bookkeeping.carry_identity(old, meta)
        meta["generation"] = int(meta.get("generation") or 1) + bookkeeping.spec_changed(old, obj)
        meta["resourceVersion"] = old["metadata"].get("resourceVersion")
        obj["metadata"] = meta
        # A status-only write keeps the already defaulted rest: skip re-defaulting it (hot path).
        prepared = self._prepare(spec, obj, old, defaults=not status_only)
        if not status_only:
            volumes.admit(self, spec, prepared, old)
            validation.validate(spec, prepared)
        return self._commit(spec, prepared, old)

    def _existing(self, spec: ResourceSpec, namespace: str | None, name: str) -> Body:
        current = self.get(spec, namespace, name)
        if current is None:
            raise errors.not_found(spec, name)
        return current

    @staticmethod
    def _check_version(spec: ResourceSpec, old: Mapping[str, Any], wanted: Any) -> None:
        if wanted not in (None, "") and str(wanted) != old["metadata"].get("resourceVersion"):
            raise errors.stale(spec, str(old["metadata"].get("name")))

    @staticmethod
    def _check_type(spec: ResourceSpec, obj: dict[str, Any]) -> None:
        for field, expected in (("apiVersion", spec.api_version), ("kind", spec.kind)):
            if obj.get(field) not in (None, "", expected):
                raise errors.bad_request(f"{field} {obj.get(field)!r} does not match the URL: {expected!r}")
            obj[field] = expected

    def _generate_name(self, spec: ResourceSpec, namespace: str | None, prefix: str) -> str:
        while True:
            name = prefix + bookkeeping.random_suffix()
            if self.get(spec, namespace, name) is None:
                return name

    @staticmethod
    def _apply_patch(spec: ResourceSpec, base: Body, content_type: str, patch: Any) -> Any:
        try:
            if content_type == patching.JSON_PATCH:
                return patching.json_patch(base, patch)
            if not isinstance(patch, Mapping):
                raise errors.bad_request("a merge patch must be a JSON object")
            if content_type == patching.MERGE_PATCH:
                return patching.merge_patch(base, patch)
            if content_type in (patching.STRATEGIC_MERGE_PATCH, patching.APPLY_PATCH):
                if spec.custom and content_type == patching.STRATEGIC_MERGE_PATCH:
                    raise errors.ApiError(
                        415,
                        f"the body of the request was in an unknown format - "
                        f"accepted media types include: {patching.JSON_PATCH}, "
                        f"{patching.MERGE_PATCH}, {patching.APPLY_PATCH}",
                    )
                return patching.strategic_merge_patch(base, patch)
        except patching.PatchFormatError as exc:
            raise errors.bad_request(str(exc)) from exc
        except patching.PatchError as exc:
            raise errors.ApiError(422, str(exc)) from exc
        raise errors.ApiError(415, f"unsupported patch type: {content_type}")


def _read_path(obj: Mapping[str, Any], path: str) -> Any:
    current: Any = obj
    for part in path.strip(".").split("."):
        current = current.get(part) if isinstance(current, Mapping) else None
    return current


def _write_path(obj: Mapping[str, Any], path: str, value: Any) -> Body:
    """A copy of `obj` with `value` at the dotted path, copying only the dicts on the way."""
    parts = path.strip(".").split(".")
    result = dict(obj)
    current = result
    for part in parts[:-1]:
        child = current.get(part)
        current[part] = dict(child) if isinstance(child, Mapping) else {}
        current = current[part]
    current[parts[-1]] = value
    return result


__all__ = ["ScaleSpec", "Store"]
