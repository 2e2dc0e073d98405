"""The resources the operator reads and writes, with their REST coordinates."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Resource:
    group: str  # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool = True

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
            if subresource:
                base += f"/{subresource}"
        return base


MODEL_DEPLOYMENTS = Resource("genaiops.dev", "v1alpha1", "modeldeployments", "ModelDeployment")
PLACEMENT_POOLS = Resource("genaiops.dev", "v1alpha1", "placementpools", "PlacementPool", namespaced=False)
DEPLOYMENTS = Resource("apps", "v1", "deployments", "Deployment")
STATEFULSETS = Resource("apps", "v1", "statefulsets", "StatefulSet")
PVCS = Resource("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim")
SERVICES = Resource("", "v1", "services", "Service")
PDBS = Resource("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget")
HPAS = Resource("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler")
SCALED_OBJECTS = Resource("keda.sh", "v1alpha1", "scaledobjects", "ScaledObject")
SERVICE_MONITORS = Resource("monitoring.coreos.com", "v1", "servicemonitors", "ServiceMonitor")
POD_MONITORS = Resource("monitoring.coreos.com", "v1", "podmonitors", "PodMonitor")
NETWORK_POLICIES = Resource("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy")
NODES = Resource("", "v1", "nodes", "Node", namespaced=False)
PODS = Resource("", "v1", "pods", "Pod")
LEASES = Resource("coordination.k8s.io", "v1", "leases", "Lease")
SERVICE_ACCOUNTS = Resource("", "v1", "serviceaccounts", "ServiceAccount")
ROLES = Resource("rbac.authorization.k8s.io", "v1", "roles", "Role")
ROLE_BINDINGS = Resource("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding")
INFERENCE_POOLS = Resource("inference.networking.k8s.io", "v1", "inferencepools", "InferencePool")
HTTP_ROUTES = Resource("gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute")
LEADER_WORKER_SETS = Resource("leaderworkerset.x-k8s.io", "v1", "leaderworkersets", "LeaderWorkerSet")
RESOURCE_CLAIM_TEMPLATES = Resource("resource.k8s.io", "v1", "resourceclaimtemplates", "ResourceClaimTemplate")

# Every kind the operator may create as a child of a ModelDeployment, in creation order.
CHILD_RESOURCES: tuple[Resource, ...] = (
    PVCS,  # before the pods that mount them
    SERVICE_ACCOUNTS,  # the endpoint picker's identity and grants, before its pod (spec.routing)
    ROLES,
    ROLE_BINDINGS,
    RESOURCE_CLAIM_TEMPLATES,  # MIG slices under DRA (render/dra_claim.py), before the pods that claim them
    DEPLOYMENTS,
    STATEFULSETS,
    LEADER_WORKER_SETS,  # multi-node replicas (render/leaderworkerset.py)
    SERVICES,
    PDBS,
    HPAS,
    SCALED_OBJECTS,
    SERVICE_MONITORS,
    POD_MONITORS,
    NETWORK_POLICIES,
    INFERENCE_POOLS,
    HTTP_ROUTES,
)
_BY_KIND = {(r.api_version, r.kind): r for r in (*CHILD_RESOURCES, MODEL_DEPLOYMENTS, PLACEMENT_POOLS, NODES, PODS)}


def resource_of(obj: dict[str, object]) -> Resource:
    """The Resource of a rendered object, from its apiVersion and kind."""
    key = (str(obj.get("apiVersion")), str(obj.get("kind")))
    try:
        return _BY_KIND[key]
    except KeyError:
        raise ValueError(f"no resource known for {key[0]} {key[1]}") from None
