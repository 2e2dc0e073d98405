"""PersistentVolumeClaims: the API server's rules for them, a binder, and what the scheduler checks.

- Admission and validation, as kube-apiserver applies them: a claim without storageClassName gets
  the default class (DefaultStorageClass); a claim's spec is immutable except that a bound claim's
  storage request may grow (never shrink), and setting volumeName once (the binder does).
- Binding, as a dynamic provisioner plus the PV controller do it: a new claim binds at once to a
  volume of the requested size, except on a `WaitForFirstConsumer` class, where it stays Pending
  until the scheduler picks a node for a pod that uses it. A grown request is expanded at once.
- Scheduling: a pod whose claim does not exist (or is being deleted, or is an unbound immediate
  claim) is unschedulable; a pod whose claim was bound for a node (a WaitForFirstConsumer class,
  modelled as node-local storage) can only go to that node.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from genai_emulator import errors
from genai_emulator.quantities import Quantity, parse_quantity
from genai_emulator.resources import ResourceSpec

if TYPE_CHECKING:
    from genai_emulator.operations import Store

Body = dict[str, Any]
SELECTED_NODE = "volume.kubernetes.io/selected-node"
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"
WAIT = "WaitForFirstConsumer"
VOLUME_CONFLICT = "node(s) had volume node affinity conflict"
_IMMUTABLE = "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims"
_SHRINK = "field can not be less than previous value"
_NO_RESIZE = (
    "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize"
)


def is_claims(spec: ResourceSpec) -> bool:
    return (spec.group, spec.plural) == ("", "persistentvolumeclaims")


def _class_spec(store: Store) -> ResourceSpec | None:
    return store.registry.lookup("storage.k8s.io", "v1", "storageclasses")


def storage_class(store: Store, claim: Mapping[str, Any]) -> Mapping[str, Any] | None:
    name = (claim.get("spec") or {}).get("storageClassName")
    spec = _class_spec(store)
    return store.get(spec, None, str(name)) if name and spec is not None else None


def _request(claim: Mapping[str, Any]) -> Any:
    return (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")


def _size(value: Any) -> Quantity | None:
    try:
        return None if value is None else parse_quantity(value)
    except ValueError:
        return None  # unparsable: nothing to compare (a real apiserver rejects it on decode)


def _phase(claim: Mapping[str, Any]) -> str | None:
    return (claim.get("status") or {}).get("phase")


# -- admission and validation -----------------------------------------------------------------


def admit(store: Store, spec: ResourceSpec, new: Body, old: Mapping[str, Any] | None) -> None:
    """Check (and on create complete) a claim write; raises the ApiError a real apiserver answers."""
    if not is_claims(spec):
        return
    if old is None:
        claim_spec = new.setdefault("spec", {})
        if "storageClassName" not in claim_spec and (default := _default_class(store)) is not None:
            claim_spec["storageClassName"] = default
        return
    name = str(new["metadata"]["name"])
    old_spec, new_spec = dict(old.get("spec") or {}), dict(new.get("spec") or {})
    bound = _phase(old) == "Bound"
    if not old_spec.get("volumeName"):
        old_spec["volumeName"] = new_spec.get("volumeName")  # the binder sets volumeName once
    if bound:
        old_spec["resources"] = new_spec.get("resources")
        old_spec["volumeAttributesClassName"] = new_spec.get("volumeAttributesClassName")
    if {k: v for k, v in old_spec.items() if v is not None} != {k: v for k, v in new_spec.items() if v is not None}:
        raise errors.forbidden_fields(spec, name, [("spec", _IMMUTABLE)])
    before, after = _size(_request(old)), _size(_request(new))
    if bound and before is not None and after is not None and before != after:
        if after < before:
            raise errors.forbidden_fields(spec, name, [("spec.resources.requests.storage", _SHRINK)])
        klass = storage_class(store, new)
        if klass is not None and not klass.get("allowVolumeExpansion"):
            raise errors.forbidden(spec, name, _NO_RESIZE)


def _default_class(store: Store) -> str | None:
    spec = _class_spec(store)
    if spec is None:
        return None
    defaults = [
        c
        for c in store.items(spec)
        if ((c.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CLASS) == "true"
    ]
    # Several defaults: the newest wins, as DefaultStorageClass does since Kubernetes 1.26.
    defaults.sort(key=lambda c: (str(c["metadata"].get("creationTimestamp", "")), c["metadata"]["name"]))
    return str(defaults[-1]["metadata"]["name"]) if defaults else None


# -- the binder -------------------------------------------------------------------------------


def reconcile_claim(store: Store, spec: ResourceSpec, namespace: str | None, name: str) -> None:
    claim = store.get(spec, namespace, name)
    if claim is None or claim["metadata"].get("deletionTimestamp"):
        return
    if _phase(claim) == "Bound":
        capacity = _size(((claim.get("status") or {}).get("capacity") or {}).get("storage"))
        request = _size(_request(claim))
        if request is not None and (capacity is None or request > capacity):  # expanded online, at once
            store.write_status(spec, claim, {**claim["status"], "capacity": {"storage": _request(claim)}})
        return
    klass = storage_class(store, claim)
    annotations = claim["metadata"].get("annotations") or {}
    if klass is not None and klass.get("volumeBindingMode") == WAIT and SELECTED_NODE not in annotations:
        if _phase(claim) != "Pending":
            store.write_status(spec, claim, {"phase": "Pending"})
        return
    bind(store, spec, claim, klass)


def bind(
    store: Store, spec: ResourceSpec, claim: Mapping[str, Any], klass: Mapping[str, Any] | None, node: str | None = None
) -> None:
    """Provision a volume of the requested size and bind the claim to it (`pvc-<uid>`, as provisioners name it)."""
    meta = claim["metadata"]
    annotations = {
        **(meta.get("annotations") or {}),
        "pv.kubernetes.io/bind-completed": "yes",
        "pv.kubernetes.io/bound-by-controller": "yes",
    }
    if klass is not None and klass.get("provisioner"):
        annotations["volume.beta.kubernetes.io/storage-provisioner"] = str(klass["provisioner"])
        annotations["volume.kubernetes.io/storage-provisioner"] = str(klass["provisioner"])
    if node is not None:
        annotations[SELECTED_NODE] = node
    claim_spec = {**(claim.get("spec") or {}), "volumeName": f"pvc-{meta.get('uid')}"}
    updated = store.replace(
        spec,
        meta.get("namespace"),
        str(meta["name"]),
        {**claim, "metadata": {**meta, "annotations": annotations}, "spec": claim_spec},
        enforce=False,
    )
    status: Body = {"phase": "Bound", "accessModes": list(claim_spec.get("accessModes") or [])}
    if _request(claim) is not None:
        status["capacity"] = {"storage": _request(claim)}
    store.write_status(spec, updated, status)


# -- what the scheduler checks ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class VolumeCheck:
    problem: str | None = None  # the pod cannot be scheduled anywhere (the PreFilter message)
    nodes: frozenset[str] | None = None  # bound node-local claims: only these nodes (None: any)
    waiting: tuple[str, ...] = ()  # WaitForFirstConsumer claims to bind on the chosen node


def claim_names(pod: Mapping[str, Any]) -> list[str]:
    return [
        str(v["persistentVolumeClaim"].get("claimName"))
        for v in (pod.get("spec") or {}).get("volumes") or []
        if isinstance(v, Mapping) and isinstance(v.get("persistentVolumeClaim"), Mapping)
    ]


def check_pod(store: Store, spec: ResourceSpec, pod: Mapping[str, Any]) -> VolumeCheck:
    namespace = (pod.get("metadata") or {}).get("namespace")
    nodes: frozenset[str] | None = None
    waiting = []
    for name in claim_names(pod):
        claim = store.get(spec, namespace, name)
        if claim is None:
            return VolumeCheck(f'persistentvolumeclaim "{name}" not found')
        if claim["metadata"].get("deletionTimestamp"):
            return VolumeCheck(f'persistentvolumeclaim "{name}" is being deleted')
        selected = (claim["metadata"].get("annotations") or {}).get(SELECTED_NODE)
        if _phase(claim) == "Bound":
            if selected:
                nodes = frozenset({selected}) if nodes is None else nodes & {selected}
            continue
        klass = storage_class(store, claim)
        if klass is None or klass.get("volumeBindingMode") != WAIT:
            return VolumeCheck("pod has unbound immediate PersistentVolumeClaims")
        waiting.append(name)
    return VolumeCheck(None, nodes, tuple(waiting))


def bind_waiting(store: Store, spec: ResourceSpec, pod: Mapping[str, Any], check: VolumeCheck, node: str) -> None:
    """The scheduler chose `node`: provision the pod's WaitForFirstConsumer claims there."""
    namespace = (pod.get("metadata") or {}).get("namespace")
    for name in check.waiting:
        claim = store.get(spec, namespace, name)
        if claim is not None and _phase(claim) != "Bound":
            bind(store, spec, claim, storage_class(store, claim), node)
