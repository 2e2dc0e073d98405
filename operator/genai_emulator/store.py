"""The object store: bookkeeping, watch events, finalizers and owner-reference GC.

All methods are synchronous and must run on the emulator's event loop thread: a write is
then atomic (no await inside), which is what makes the global resourceVersion and the
event order consistent. The kmock `ObjectsArray` mirrors every version for assertions.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import logging
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import kmock

from genai_emulator import bookkeeping, errors
from genai_emulator.crds import crd_status, is_crd, specs_from_crd
from genai_emulator.defaults import apply_builtin_defaults
from genai_emulator.events import EventLog, ResourceId, WatchEvent
from genai_emulator.resources import Registry, ResourceSpec
from genai_emulator.schema import prune_and_default
from genai_emulator.schema_checks import schema_errors

logger = logging.getLogger(__name__)

ObjectKey = tuple[str | None, str]  # (namespace, name)
Body = dict[str, Any]


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    """A committed write, as told to in-process listeners (the simulated controllers)."""

    spec: ResourceSpec
    type: str
    obj: Mapping[str, Any]
    old: Mapping[str, Any] | None


Listener = Callable[[Change], None]


class StoreBase:
    def __init__(
        self,
        registry: Registry,
        objects: kmock.ObjectsArray,
        *,
        history_limit: int = 8,
        event_capacity: int = 20_000,
        strict_namespaces: bool = False,
    ) -> None:
        self.registry = registry
        self.objects = objects
        self.events = EventLog(event_capacity)
        self.history_limit = history_limit
        self.strict_namespaces = strict_namespaces
        self.on_registry_change: Callable[[], None] | None = None
        self._rv = 0
        self._current: dict[ResourceId, dict[ObjectKey, Body]] = defaultdict(dict)
        self._dependents: dict[str, set[tuple[ResourceSpec, str | None, str]]] = defaultdict(set)
        self._listeners: list[Listener] = []
        self._service_ips = itertools.count(10)  # 10.96.0.1 is the `kubernetes` Service

    # -- reading ------------------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        return self._rv

    def get(self, spec: ResourceSpec, namespace: str | None, name: str) -> Body | None:
        """The stored object (shared with watch events: never mutate it)."""
        spec = self.registry.storage_spec(spec)
        return self._current[spec.group, spec.plural].get((self._ns(spec, namespace), name))

    def items(self, spec: ResourceSpec, namespace: str | None = None) -> Iterator[Body]:
        spec = self.registry.storage_spec(spec)
        for (ns, _), obj in list(self._current[spec.group, spec.plural].items()):
            if namespace is None or ns == namespace:
                yield obj

    def dependents(self, uid: str) -> list[tuple[ResourceSpec, str | None, str]]:
        return sorted(self._dependents.get(uid, ()), key=lambda d: (d[0].plural, d[1] or "", d[2]))

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    # -- committing ---------------------------------------------------------------------------

    @staticmethod
    def _ns(spec: ResourceSpec, namespace: str | None) -> str | None:
        return namespace if spec.namespaced else None

    def _prepare(self, spec: ResourceSpec, obj: Body, old: Body | None, *, defaults: bool = True) -> Body:
        """Defaulting and pruning, as the apiserver does on every write."""
        if spec.schema is not None:
            obj = prune_and_default(obj, spec.schema)
            problems = list(schema_errors(obj, spec.schema))
            if problems:
                name = (obj.get("metadata") or {}).get("name")
                raise errors.invalid(spec, name, problems[0] if len(problems) == 1 else f"[{', '.join(problems)}]")
        if defaults and not spec.custom:
            obj = apply_builtin_defaults(spec.group, spec.plural, obj, old, self._allocate_ip)
        if is_crd(obj):
            specs_from_crd(obj)  # raises on an unusable CRD before anything is stored
            obj["status"] = {
                **crd_status(obj),
                **{k: v for k, v in (obj.get("status") or {}).items() if k not in ("conditions", "acceptedNames")},
            }
        return obj

    def _allocate_ip(self) -> str:
        serial = next(self._service_ips)
        return f"10.96.{serial // 254 % 256}.{serial % 254 + 1}"

    def _commit(self, spec: ResourceSpec, new: Body, old: Body | None) -> Body:
        """Store a new version (or the first one) and tell the watchers and listeners."""
        spec = self.registry.storage_spec(spec)
        meta = new["metadata"]
        namespace, name = meta.get("namespace"), str(meta["name"])
        if old is not None and bookkeeping.same_ignoring_version(old, new):
            return old
        if old is not None and meta.get("deletionTimestamp") and not meta.get("finalizers"):
            self._remove(spec, new, orphan=False)  # the last finalizer is gone: delete now
            return new
        self._rv += 1
        meta["resourceVersion"] = str(self._rv)
        self._current[spec.group, spec.plural][namespace, name] = new
        self._mirror(spec, namespace, name, new)
        self._reindex_owners(spec, old, new)
        self._emit(spec, "MODIFIED" if old is not None else "ADDED", new, old)
        if is_crd(new):
            self._crd_changed(new, deleted=False)
        return new

    def _remove(self, spec: ResourceSpec, last: Body, *, orphan: bool, foreground: bool = False) -> Body:
        spec = self.registry.storage_spec(spec)
        meta = last["metadata"]
        namespace, name, uid = meta.get("namespace"), str(meta["name"]), str(meta.get("uid", ""))
        dependents = self.dependents(uid)
        if foreground and not orphan:
            self._delete_dependents(dependents)
        self._current[spec.group, spec.plural].pop((namespace, name), None)
        self._rv += 1
        final = {**last, "metadata": {**meta, "resourceVersion": str(self._rv)}}
        self._mirror(spec, namespace, name, None)
        self._reindex_owners(spec, last, None)
        self._emit(spec, "DELETED", final, last)
        if orphan:
            for dep_spec, dep_ns, dep_name in dependents:
                current = self.get(dep_spec, dep_ns, dep_name)
                if current is not None:
                    self._commit(dep_spec, bookkeeping.without_owner(current, uid), current)
        elif not foreground:
            self._delete_dependents(dependents)
        if spec.group == "" and spec.plural == "namespaces":
            self._purge_namespace(name)
        if is_crd(last):
            self._crd_changed(last, deleted=True)
        return final

    def _delete_dependents(self, dependents: list[tuple[ResourceSpec, str | None, str]]) -> None:
        for dep_spec, dep_ns, dep_name in dependents:
            current = self.get(dep_spec, dep_ns, dep_name)
            if current is not None:
                logger.debug("Garbage-collecting %s %s/%s", dep_spec.kind, dep_ns, dep_name)
                self.mark_deleted(dep_spec, current)

    def mark_deleted(
        self, spec: ResourceSpec, current: Body, *, orphan: bool = False, foreground: bool = False
    ) -> Body:
        """Delete now, or set deletionTimestamp and wait for the finalizers to go."""
        meta = current["metadata"]
        if not meta.get("finalizers"):
            return self._remove(spec, current, orphan=orphan, foreground=foreground)
        if meta.get("deletionTimestamp"):
            return current
        new_meta = {**meta, "deletionTimestamp": bookkeeping.now_rfc3339(), "deletionGracePeriodSeconds": 0}
        if "generation" in meta:
            new_meta["generation"] = int(meta["generation"]) + 1  # as graceful deletion does
        return self._commit(spec, {**current, "metadata": new_meta}, current)

    def _purge_namespace(self, namespace: str) -> None:
        for spec in list(self.registry):
            if spec.namespaced and self.registry.storage_spec(spec) is spec:
                for obj in list(self.items(spec, namespace)):
                    if self.get(spec, namespace, obj["metadata"]["name"]) is not None:
                        self.mark_deleted(spec, obj)

    def _crd_changed(self, crd: Mapping[str, Any], *, deleted: bool) -> None:
        crd_spec = crd.get("spec") or {}
        group, plural = str(crd_spec.get("group", "")), str((crd_spec.get("names") or {}).get("plural", ""))
        if deleted:
            gone = self.registry.remove(group, plural)
            if gone:
                storage = next((s for s in gone if s.version == s.stored_version), gone[0])
                for obj in list(self._current[group, plural].values()):
                    self._remove(storage, obj, orphan=False)
                # Forget them in kmock too, or its discovery keeps serving the resource.
                for key in [k for k in self.objects if (k[0].group, k[0].plural) == (group, plural)]:
                    del self.objects[key]
            self._current.pop((group, plural), None)
        else:
            self.registry.remove(group, plural)
            for spec in specs_from_crd(crd):
                self.registry.add(spec)
                # A new resource's watch cache starts now, as kube-apiserver's does: older versions are 410 Gone.
                self.events.start((spec.group, spec.plural), self._rv)
        if self.on_registry_change is not None:
            self.on_registry_change()

    def _mirror(self, spec: ResourceSpec, namespace: str | None, name: str, new: Body | None) -> None:
        """Keep kmock's ObjectsArray in step, so `emulator.objects[...]` shows the history."""
        key = (kmock.resource(spec.group, spec.stored_version, spec.plural), namespace, name)
        if key not in self.objects:
            self.objects[key] = [new]
            return
        record = self.objects[key]
        if new is None:
            record.delete()
        else:
            record.history.append(new)
        if len(record.history) > self.history_limit:
            del record.history[: -self.history_limit]

    def _reindex_owners(self, spec: ResourceSpec, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> None:
        source = new or old or {}
        meta = source.get("metadata") or {}
        entry = (spec, meta.get("namespace"), str(meta.get("name")))
        for uid in bookkeeping.owner_uids(old) - bookkeeping.owner_uids(new):
            self._dependents[uid].discard(entry)
            if not self._dependents[uid]:
                del self._dependents[uid]
        for uid in bookkeeping.owner_uids(new):
            self._dependents[uid].add(entry)

    def _emit(self, spec: ResourceSpec, kind: str, obj: Body, old: Body | None) -> None:
        self.events.append((spec.group, spec.plural), WatchEvent(self._rv, kind, obj, old))
        change = Change(spec, kind, obj, old)
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:  # a broken listener must not break the write that triggered it
                logger.exception("Store listener %r failed", listener)

    # -- namespaces ---------------------------------------------------------------------------

    def ensure_namespace(self, namespace: str) -> None:
        ns_spec = self.registry.lookup("", "v1", "namespaces")
        if ns_spec is None or self.get(ns_spec, None, namespace) is not None:
            return
        if self.strict_namespaces:
            raise errors.not_found(ns_spec, namespace)
        created = self._stamp_new(ns_spec, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        self._commit(ns_spec, self._prepare(ns_spec, created, None), None)

    @staticmethod
    def _stamp_new(spec: ResourceSpec, obj: Body) -> Body:
        meta = obj["metadata"]
        meta["uid"] = bookkeeping.new_uid()
        meta["creationTimestamp"] = bookkeeping.now_rfc3339()
        meta["generation"] = 1
        for field in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields"):
            meta.pop(field, None)
        if not spec.namespaced:
            meta.pop("namespace", None)
        return obj

    @staticmethod
    def snapshot(obj: Mapping[str, Any] | None) -> Body | None:
        """A private deep copy for in-process callers who may mutate what they get."""
        return copy.deepcopy(dict(obj)) if obj is not None else None
