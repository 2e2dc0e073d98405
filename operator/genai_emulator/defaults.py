"""Server-side defaulting of the built-in kinds an operator writes, as kube-apiserver does it.

An operator that compares its desired object with the observed one must expect these fields
(strategy, dnsPolicy, imagePullPolicy, clusterIP, ...); without them the emulator would hide
the endless-update bug that naive diffing causes on a real cluster.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

Body = dict[str, Any]

_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")
_PROBE_DEFAULTS = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
_SCALE_UP = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [
        {"type": "Pods", "value": 4, "periodSeconds": 15},
        {"type": "Percent", "value": 100, "periodSeconds": 15},
    ],
}
_SCALE_DOWN = {
    "stabilizationWindowSeconds": 300,
    "selectPolicy": "Max",
    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
}


def apply_builtin_defaults(
    group: str, plural: str, obj: Body, old: Mapping[str, Any] | None, allocate_ip: Callable[[], str]
) -> Body:
    """Return `obj` with the defaults of its kind filled in (a copy; the input is not mutated)."""
    handler = _HANDLERS.get((group, plural))
    if handler is None:
        return obj
    obj = copy.deepcopy(obj)
    handler(obj, old, allocate_ip)
    return obj


def _image_pull_policy(image: str) -> str:
    name = image.rsplit("/", 1)[-1]
    if "@" in image or (":" in name and not name.endswith(":latest")):
        return "IfNotPresent"
    return "Always"


def _container(container: Body) -> None:
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    container.setdefault("imagePullPolicy", _image_pull_policy(str(container.get("image", ""))))
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for probe_name in _PROBES:
        probe = container.get(probe_name)
        if isinstance(probe, dict):
            for key, value in _PROBE_DEFAULTS.items():
                probe.setdefault(key, value)
            if isinstance(probe.get("httpGet"), dict):
                probe["httpGet"].setdefault("path", "/")
                probe["httpGet"].setdefault("scheme", "HTTP")
    for env in container.get("env") or []:
        field_ref = (env.get("valueFrom") or {}).get("fieldRef")
        if isinstance(field_ref, dict):
            field_ref.setdefault("apiVersion", "v1")


def _pod_spec(spec: Body) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or []:
            _container(container)
    for volume in spec.get("volumes") or []:
        for source in ("configMap", "secret", "projected", "downwardAPI"):
            if isinstance(volume.get(source), dict):
                volume[source].setdefault("defaultMode", 420)


def _template(obj: Body) -> None:
    template = (obj.get("spec") or {}).get("template")
    if isinstance(template, dict):
        template.setdefault("metadata", {})
        _pod_spec(template.setdefault("spec", {}))


def _deployment(obj: Body, old: Mapping[str, Any] | None, allocate_ip: Callable[[], str]) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxUnavailable", "25%")
        rolling.setdefault("maxSurge", "25%")
    _template(obj)


def _statefulset(obj: Body, old: Mapping[str, Any] | None, allocate_ip: Callable[[], str]) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("revisionHistoryLimit", 10)
    strategy = spec.setdefault("updateStrategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
    spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
    for claim in spec.get("volumeClaimTemplates") or []:
        if isinstance(claim, dict):  # defaulted like a claim, status included (it stays Pending forever)
            claim.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
            claim.setdefault("status", {}).setdefault("phase", "Pending")
    _template(obj)


def _pod(obj: Body, old: Mapping[str, Any] | None, allocate_ip: Callable[[], str]) -> None:
    spec = obj.setdefault("spec", {})
    _pod_spec(spec)
    spec.setdefault("enableServiceLinks", True)
    for container in spec.get("containers") or []:
        resources = container.setdefault("resources", {})
        if resources.get("limits") and not resources.get("requests"):
            resources["requests"] = dict(resources["limits"])  # requests default to limits on pods


def _service(obj: Body, old: Mapping[str, Any] | None, allocate_ip: Callable[[], str]) -> None:
    spec = obj.setdefault("spec", {})
    old_spec = (old or {}).get("spec") or {}
    kind = spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
    if kind == "ExternalName":
        return
    spec.setdefault("internalTrafficPolicy", "Cluster")
    # clusterIP is allocated once and carried over by updates that leave it out.
    if not spec.get("clusterIP"):
        spec["clusterIP"] = old_spec.get("clusterIP") or allocate_ip()
    spec.setdefault("clusterIPs", [spec["clusterIP"]])
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    obj.setdefault("status", {"loadBalancer": {}})


def _hpa(obj: Body, old: Mapping[str, Any] | None, allocate_ip: Callable[[], str]) -> None:
    spec = obj.setdefault("spec", {})
    spec.setdefault("minReplicas", 1)
    if not spec.get("metrics"):
        spec["metrics"] = [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}},
            }
        ]
    behavior = spec.get("behavior")
    if isinstance(behavior, dict):  # only a given behavior gets its missing parts defaulted
        for key, default in (("scaleUp", _SCALE_UP), ("scaleDown", _SCALE_DOWN)):
            rules = behavior.setdefault(key, {})
            for field, value in default.items():
                rules.setdefault(field, copy.deepcopy(value))


def _network_policy(obj: Body, old: Mapping[str, Any] | None, allocate_ip: Callable[[], str]) -> None:
    spec = obj.setdefault("spec", {})
    if not spec.get("policyTypes"):
        spec["policyTypes"] = ["Ingress"] + (["Egress"] if spec.get("egress") else [])
    for rule in [*(spec.get("ingress") or []), *(spec.get("egress") or [])]:
        for port in rule.get("ports") or []:
            port.setdefault("protocol", "TCP")


def _namespace(obj: Body, old: Mapping[str, Any] | None, allocate_ip: Callable[[], str]) -> None:
    meta = obj.setdefault("metadata", {})
    meta["labels"] = {**(meta.get("labels") or {}), "kubernetes.io/metadata.name": meta.get("name")}
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {}).setdefault("phase", "Active")


def _secret(obj: Body, old: Mapping[str, Any] | None, allocate_ip: Callable[[], str]) -> None:
    obj.setdefault("type", "Opaque")


def _pvc(obj: Body, old: Mapping[str, Any] | None, allocate_ip: Callable[[], str]) -> None:
    obj.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
    if not (obj.get("status") or {}).get("phase"):
        obj["status"] = {**(obj.get("status") or {}), "phase": "Pending"}


def _storage_class(obj: Body, old: Mapping[str, Any] | None, allocate_ip: Callable[[], str]) -> None:
    obj.setdefault("reclaimPolicy", "Delete")
    obj.setdefault("volumeBindingMode", "Immediate")


_Handler = Callable[[Body, Mapping[str, Any] | None, Callable[[], str]], None]
_HANDLERS: dict[tuple[str, str], _Handler] = {
    ("apps", "deployments"): _deployment,
    ("apps", "statefulsets"): _statefulset,
    ("", "pods"): _pod,
    ("", "services"): _service,
    ("autoscaling", "horizontalpodautoscalers"): _hpa,
    ("networking.k8s.io", "networkpolicies"): _network_policy,
    ("", "namespaces"): _namespace,
    ("", "secrets"): _secret,
    ("", "persistentvolumeclaims"): _pvc,
    ("storage.k8s.io", "storageclasses"): _storage_class,
}
