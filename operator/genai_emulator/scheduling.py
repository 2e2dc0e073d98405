"""The kube-scheduler filters that decide GPU placement, as pure functions.

Filters run in kube-scheduler's order (NodeUnschedulable, TaintToleration, NodeAffinity,
NodeResourcesFit, VolumeBinding) and a node reports the reasons of its first failing filter, so the
`0/N nodes are available: ...` message reads like the real one.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from genai_emulator.quantities import Resources, add_resources, parse_resources
from genai_emulator.selectors import Requirement

_BLOCKING_EFFECTS = ("NoSchedule", "NoExecute")
_AFFINITY_REASON = "node(s) didn't match Pod's node affinity/selector"
_VOLUME_REASON = "node(s) had volume node affinity conflict"


def pod_requests(pod: Mapping[str, Any]) -> Resources:
    """Effective requests: containers summed, init containers maxed, limits default requests."""
    spec = pod.get("spec") or {}
    total: Resources = {}
    for container in spec.get("containers") or []:
        add_resources(total, _container_requests(container))
    for container in spec.get("initContainers") or []:
        for key, value in _container_requests(container).items():
            total[key] = max(total.get(key, 0), value)
    return total


def _container_requests(container: Mapping[str, Any]) -> Resources:
    resources = container.get("resources") or {}
    limits = parse_resources(resources.get("limits"))
    requests = parse_resources(resources.get("requests"))
    return {**limits, **requests}  # Kubernetes defaults a missing request to its limit


def allocatable(node: Mapping[str, Any]) -> Resources:
    status = node.get("status") or {}
    return parse_resources(status.get("allocatable") or status.get("capacity"))


@dataclasses.dataclass
class NodeUsage:
    requested: Resources = dataclasses.field(default_factory=dict)
    pods: int = 0

    def add(self, requests: Resources) -> None:
        add_resources(self.requested, requests)
        self.pods += 1

    def remove(self, requests: Resources) -> None:
        """Undo `add` (exact: quantities are ints and Fractions); a resource back at 0 is dropped."""
        for key, value in requests.items():
            left = self.requested.get(key, 0) - value
            if left:
                self.requested[key] = left
            else:
                self.requested.pop(key, None)
        self.pods -= 1


def tolerates(tolerations: Sequence[Mapping[str, Any]], taint: Mapping[str, Any]) -> bool:
    for toleration in tolerations:
        effect = toleration.get("effect")
        if effect and effect != taint.get("effect"):
            continue
        operator = toleration.get("operator", "Equal")
        key = toleration.get("key")
        if not key and operator == "Exists":
            return True
        if key != taint.get("key"):
            continue
        if operator == "Exists" or str(toleration.get("value", "")) == str(taint.get("value", "")):
            return True
    return False


def _untolerated_taint(pod: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any] | None:
    tolerations = (pod.get("spec") or {}).get("tolerations") or []
    taints = list((node.get("spec") or {}).get("taints") or [])
    if not is_ready(node):
        taints.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
    for taint in taints:
        if (
            isinstance(taint, Mapping)
            and taint.get("effect") in _BLOCKING_EFFECTS
            and not tolerates(tolerations, taint)
        ):
            return taint
    return None


def is_ready(node: Mapping[str, Any]) -> bool:
    """Nodes without conditions count as ready (hand-written inventories often omit them)."""
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return bool(condition.get("status") == "True")
    return True


def _term_matches(term: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    labels = (node.get("metadata") or {}).get("labels") or {}
    name = (node.get("metadata") or {}).get("name", "")
    for expr in term.get("matchExpressions") or []:
        requirement = Requirement(
            str(expr.get("key")), str(expr.get("operator")), tuple(str(v) for v in expr.get("values") or ())
        )
        if not requirement.matches(labels):
            return False
    for expr in term.get("matchFields") or []:
        requirement = Requirement(
            "metadata.name", str(expr.get("operator")), tuple(str(v) for v in expr.get("values") or ())
        )
        if not requirement.matches({"metadata.name": name}):
            return False
    return bool(term.get("matchExpressions") or term.get("matchFields"))


def matches_affinity(pod: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    spec = pod.get("spec") or {}
    labels = (node.get("metadata") or {}).get("labels") or {}
    for key, value in (spec.get("nodeSelector") or {}).items():
        if labels.get(key) != str(value):
            return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms")
    if terms is None:
        return True
    return any(_term_matches(term, node) for term in terms)  # terms are ORed


@dataclasses.dataclass(frozen=True)
class NodeView:
    """A node with its allocatable resources parsed once per scheduling pass."""

    name: str
    node: Mapping[str, Any]
    capacity: Resources

    @classmethod
    def of(cls, node: Mapping[str, Any]) -> NodeView:
        return cls(str(node["metadata"]["name"]), node, allocatable(node))


def filter_node(
    pod: Mapping[str, Any],
    view: NodeView,
    usage: NodeUsage,
    requests: Resources,
    volume_nodes: frozenset[str] | None = None,
) -> list[str]:
    """The reasons the node cannot take `pod`; empty when it fits.

    volume_nodes: the nodes that the pod's bound node-local volumes allow (None: any node).
    """
    node = view.node
    if (node.get("spec") or {}).get("unschedulable"):
        return ["node(s) were unschedulable"]
    taint = _untolerated_taint(pod, node)
    if taint is not None:
        return [f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}"]
    if not matches_affinity(pod, node):
        return [_AFFINITY_REASON]
    capacity = view.capacity
    reasons = []
    if "pods" in capacity and usage.pods + 1 > capacity["pods"]:
        reasons.append("Too many pods")
    for resource, amount in sorted(requests.items()):
        if amount <= 0:
            continue
        if usage.requested.get(resource, 0) + amount > capacity.get(resource, 0):
            reasons.append(f"Insufficient {resource}")
    if not reasons and volume_nodes is not None and view.name not in volume_nodes:
        reasons.append(_VOLUME_REASON)
    return reasons


def _score(view: NodeView, usage: NodeUsage, requests: Resources) -> float:
    """LeastAllocated: prefer the node left emptiest for the resources the pod asks for (a ranking only,
    so a float is exact enough; the fit check above stays exact)."""
    capacity = view.capacity
    shares = [
        float((usage.requested.get(key, 0) + amount) / capacity[key])
        for key, amount in requests.items()
        if capacity.get(key)
    ]
    return max(shares, default=0.0)


@dataclasses.dataclass(frozen=True)
class Decision:
    node: str | None
    message: str = ""


def choose_node(
    pod: Mapping[str, Any],
    nodes: Sequence[NodeView],
    usage: Mapping[str, NodeUsage],
    requests: Resources | None = None,
    *,
    volume_nodes: frozenset[str] | None = None,
) -> Decision:
    requests = pod_requests(pod) if requests is None else requests
    feasible: list[tuple[float, str]] = []
    reasons: Counter[str] = Counter()
    for view in nodes:
        node_usage = usage.get(view.name) or NodeUsage()
        failures = filter_node(pod, view, node_usage, requests, volume_nodes)
        if failures:
            reasons.update(failures)
        else:
            feasible.append((_score(view, node_usage, requests), view.name))
    if feasible:
        return Decision(min(feasible)[1])
    if not nodes:
        return Decision(None, "no nodes available to schedule pods")
    # kube-scheduler sorts the formatted "<count> <reason>" strings, count first.
    details = ", ".join(sorted(f"{count} {reason}" for reason, count in reasons.items()))
    return Decision(None, f"0/{len(nodes)} nodes are available: {details}.")
