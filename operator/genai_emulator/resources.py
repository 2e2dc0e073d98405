"""Resource declarations: what the emulated API server serves, and how.

A :class:`ResourceSpec` is the emulator's view of one served group/version/plural: its kind,
scope, subresources and (for custom resources) the structural schema used for pruning and
defaulting. :class:`Registry` resolves the many ways tests and clients name a resource.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

GENAI_GROUP = "genaiops.dev"
GENAI_VERSION = "v1alpha1"


@dataclasses.dataclass(frozen=True)
class ScaleSpec:
    """Where the /scale subresource reads and writes (the CRD `subresources.scale` block)."""

    spec_replicas_path: str = ".spec.replicas"
    status_replicas_path: str = ".status.replicas"
    # None means "derive from spec.selector", as the built-in apps/v1 workloads do.
    label_selector_path: str | None = None


@dataclasses.dataclass(frozen=True)
class ResourceSpec:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    status: bool = False
    scale: ScaleSpec | None = None
    shortnames: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    # Served from a CRD: strategic merge patch is not supported there (415), as in Kubernetes.
    custom: bool = False
    # The version objects are stored under; differs only for multi-version CRDs.
    storage_version: str = ""
    # The structural openAPIV3Schema of a CRD version, for pruning and defaulting.
    schema: Mapping[str, Any] | None = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def stored_version(self) -> str:
        return self.storage_version or self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def group_resource(self) -> str:
        """The `plural.group` form that Kubernetes uses in error messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def subresources(self) -> tuple[str, ...]:
        return (("status",) if self.status else ()) + (("scale",) if self.scale else ())


_DEPLOYMENT_SCALE = ScaleSpec()
_CR_SCALE = ScaleSpec(label_selector_path=".status.selector")


def _ns(group: str, version: str, plural: str, kind: str, **kwargs: Any) -> ResourceSpec:
    return ResourceSpec(group, version, plural, kind, namespaced=True, **kwargs)


def _cluster(group: str, version: str, plural: str, kind: str, **kwargs: Any) -> ResourceSpec:
    return ResourceSpec(group, version, plural, kind, namespaced=False, **kwargs)


CORE_RESOURCES: tuple[ResourceSpec, ...] = (
    _cluster(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        status=True,
        shortnames=("crd", "crds"),
    ),
    _cluster("", "v1", "namespaces", "Namespace", status=True, shortnames=("ns",)),
    _cluster("", "v1", "nodes", "Node", status=True, shortnames=("no",)),
    _ns("", "v1", "events", "Event", shortnames=("ev",)),
    _ns("events.k8s.io", "v1", "events", "Event", shortnames=("ev",)),
    _ns("", "v1", "pods", "Pod", status=True, shortnames=("po",), categories=("all",)),
    _ns("", "v1", "services", "Service", status=True, shortnames=("svc",), categories=("all",)),
    _ns("", "v1", "endpoints", "Endpoints", shortnames=("ep",)),
    _ns("", "v1", "configmaps", "ConfigMap", shortnames=("cm",)),
    _ns("", "v1", "secrets", "Secret"),
    _ns("", "v1", "serviceaccounts", "ServiceAccount", shortnames=("sa",)),
    _ns("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", status=True, shortnames=("pvc",)),
    _cluster("storage.k8s.io", "v1", "storageclasses", "StorageClass", shortnames=("sc",)),
    _ns(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        status=True,
        scale=_DEPLOYMENT_SCALE,
        shortnames=("deploy",),
        categories=("all",),
    ),
    _ns(
        "apps",
        "v1",
        "statefulsets",
        "StatefulSet",
        status=True,
        scale=_DEPLOYMENT_SCALE,
        shortnames=("sts",),
        categories=("all",),
    ),
    _ns(
        "apps",
        "v1",
        "replicasets",
        "ReplicaSet",
        status=True,
        scale=_DEPLOYMENT_SCALE,
        shortnames=("rs",),
        categories=("all",),
    ),
    _ns("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", status=True, shortnames=("pdb",)),
    _ns("rbac.authorization.k8s.io", "v1", "roles", "Role"),
    _ns("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding"),
    _ns(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        status=True,
        shortnames=("hpa",),
        categories=("all",),
    ),
    _ns("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", shortnames=("netpol",)),
    _ns("coordination.k8s.io", "v1", "leases", "Lease"),
    _cluster("kopf.dev", "v1", "clusterkopfpeerings", "ClusterKopfPeering", custom=True),
    _ns("kopf.dev", "v1", "kopfpeerings", "KopfPeering", custom=True),
)

GENAI_RESOURCES: tuple[ResourceSpec, ...] = (
    _ns(
        GENAI_GROUP,
        GENAI_VERSION,
        "modeldeployments",
        "ModelDeployment",
        status=True,
        scale=_CR_SCALE,
        shortnames=("mdep", "md"),
        categories=("genai",),
        custom=True,
    ),
    _cluster(
        GENAI_GROUP, GENAI_VERSION, "placementpools", "PlacementPool", status=True, shortnames=("pool",), custom=True
    ),
)

KEDA_RESOURCES: tuple[ResourceSpec, ...] = (
    _ns("keda.sh", "v1alpha1", "scaledobjects", "ScaledObject", status=True, shortnames=("so",), custom=True),
)

PROMETHEUS_OPERATOR_RESOURCES: tuple[ResourceSpec, ...] = (
    _ns("monitoring.coreos.com", "v1", "servicemonitors", "ServiceMonitor", shortnames=("smon",), custom=True),
    _ns("monitoring.coreos.com", "v1", "podmonitors", "PodMonitor", shortnames=("pmon",), custom=True),
)


def default_resources(
    *, with_keda: bool = False, with_prometheus_operator: bool = False, with_genai: bool = True
) -> list[ResourceSpec]:
    specs = [*CORE_RESOURCES, *(GENAI_RESOURCES if with_genai else ())]
    if with_keda:
        specs += KEDA_RESOURCES
    if with_prometheus_operator:
        specs += PROMETHEUS_OPERATOR_RESOURCES
    return specs


class UnknownResourceError(LookupError):
    pass


class Registry:
    """The served resources, addressable by group/version/plural, kind, short name or plural."""

    def __init__(self, specs: Iterable[ResourceSpec] = ()) -> None:
        self._specs: dict[tuple[str, str, str], ResourceSpec] = {}
        for spec in specs:
            self.add(spec)

    def __iter__(self) -> Iterator[ResourceSpec]:
        return iter(list(self._specs.values()))

    def add(self, spec: ResourceSpec) -> None:
        self._specs[spec.group, spec.version, spec.plural] = spec

    def remove(self, group: str, plural: str) -> list[ResourceSpec]:
        """Drop every version of group/plural (a deleted CRD); returns what was dropped."""
        gone = [spec for spec in self._specs.values() if (spec.group, spec.plural) == (group, plural)]
        for spec in gone:
            del self._specs[spec.group, spec.version, spec.plural]
        return gone

    def lookup(self, group: str, version: str, plural: str) -> ResourceSpec | None:
        return self._specs.get((group, version, plural))

    def storage_spec(self, spec: ResourceSpec) -> ResourceSpec:
        """The spec of the version that objects of this resource are stored under."""
        return self._specs.get((spec.group, spec.stored_version, spec.plural), spec)

    def for_object(self, obj: Mapping[str, Any]) -> ResourceSpec:
        api_version = str(obj.get("apiVersion", ""))
        kind = str(obj.get("kind", ""))
        group, _, version = api_version.rpartition("/")
        for spec in self._specs.values():
            if (spec.group, spec.version, spec.kind) == (group, version, kind):
                return spec
        raise UnknownResourceError(f"No served resource for apiVersion={api_version!r} kind={kind!r}")

    def resolve(self, ref: str | ResourceSpec) -> ResourceSpec:
        """Resolve 'pods', 'Pod', 'po', 'deployments.apps', 'apps/v1/deployments' or 'v1/pods'."""
        if isinstance(ref, ResourceSpec):
            return ref
        candidates: list[ResourceSpec] = []
        parts = ref.split("/")
        if len(parts) == 3:
            candidates = [s for s in self._specs.values() if (s.group, s.version, s.plural) == tuple(parts)]
        elif len(parts) == 2 and parts[0] == "v1":
            candidates = [s for s in self._specs.values() if (s.group, s.version, s.plural) == ("", *parts)]
        elif "." in ref:
            plural, _, group = ref.partition(".")
            candidates = [s for s in self._specs.values() if (s.plural, s.group) == (plural, group)]
        else:
            lowered = ref.lower()
            candidates = [
                s for s in self._specs.values() if lowered in (s.plural, s.singular) or lowered in s.shortnames
            ]
            # Prefer the core group where names collide (v1 events vs events.k8s.io events).
            candidates.sort(key=lambda s: s.group != "")
        candidates = [c for c in candidates if self.storage_spec(c) is c] or candidates
        if not candidates:
            raise UnknownResourceError(f"Unknown resource: {ref!r}")
        return candidates[0]
