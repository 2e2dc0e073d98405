"""Test support for the chart, image and RBAC tests (no tests of its own): the external tools that
scripts/install-tools.sh installs, `helm template` with caching, and RBAC rule evaluation.

A missing tool is a test failure, never a skip: scripts/setup.sh runs the installer, so a tool that is
not there means the set-up is broken, and CI must say so.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import yaml

from support.paths import ROOT

CHART = ROOT / "charts" / "genai-operator"
RELEASE = "genai"
RELEASE_NAMESPACE = "genai-system"
KUBE_VERSION = "1.33.0"
# The namespaces of the examples: the namespaced-mode operator serves exactly these.
EXAMPLE_NAMESPACES = ("ml", "stores")
NAMESPACED_VALUES = ("--set", "watch.allNamespaces=false", "--set", "watch.namespaces={ml,stores}")


def tool(name: str) -> str:
    """The path of an installed tool: .venv/bin first (where the installer puts it), then PATH."""
    candidate = ROOT / ".venv" / "bin" / name
    if candidate.exists() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    pytest.fail(f"{name} is not installed: run `bash scripts/install-tools.sh` (scripts/setup.sh runs it)")


def run(args: Sequence[str], *, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, cwd=ROOT, check=False)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


@functools.cache
def _template_text(args: tuple[str, ...]) -> str:
    return run(
        [
            tool("helm"),
            "template",
            RELEASE,
            str(CHART),
            "--namespace",
            RELEASE_NAMESPACE,
            "--kube-version",
            KUBE_VERSION,
            *args,
        ]
    ).stdout


def helm_template(*args: str) -> list[dict[str, Any]]:
    """The chart's objects as `helm template` renders them with these extra arguments (cached)."""
    return [doc for doc in yaml.safe_load_all(_template_text(tuple(args))) if doc]


def helm_template_error(*args: str) -> str:
    """The error of a `helm template` that must fail (e.g. values the schema rejects)."""
    result = run([tool("helm"), "template", RELEASE, str(CHART), "--kube-version", KUBE_VERSION, *args], check=False)
    assert result.returncode != 0, f"helm template {' '.join(args)} should have failed:\n{result.stdout[:2000]}"
    return result.stderr


def of_kind(objects: Iterable[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o.get("kind") == kind]


# -- RBAC ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Request:
    """What RBAC authorizes: verb, API group, resource (plural) and subresource, namespace (None: cluster)."""

    verb: str
    group: str
    resource: str
    subresource: str | None
    namespace: str | None
    name: str | None = None  # rules with resourceNames allow only these (never a create, list or watch)

    def __str__(self) -> str:
        res = f"{self.resource}/{self.subresource}" if self.subresource else self.resource
        where = f"in namespace {self.namespace}" if self.namespace else "cluster-wide"
        return f"{self.verb} {res}.{self.group or 'core'} {where}"


def _rule_allows(rule: dict[str, Any], request: Request) -> bool:
    resource = f"{request.resource}/{request.subresource}" if request.subresource else request.resource
    return (
        request.verb in rule.get("verbs", [])
        and request.group in rule.get("apiGroups", [])
        and resource in rule.get("resources", [])
        and (not rule.get("resourceNames") or request.name in rule["resourceNames"])
    )


class Authorizer:
    """The RBAC authorizer's decision for one ServiceAccount, from rendered Role/ClusterRole(Binding)s."""

    def __init__(self, objects: Sequence[dict[str, Any]], service_account: str, namespace: str) -> None:
        self.subject = ("ServiceAccount", service_account, namespace)
        roles = {
            (o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o.get("rules") or []
            for o in objects
            if o.get("kind") in ("Role", "ClusterRole")
        }
        self.cluster_rules: list[dict[str, Any]] = []  # from ClusterRoleBindings: everywhere
        self.namespace_rules: dict[str, list[dict[str, Any]]] = {}  # from RoleBindings: their namespace
        for binding in objects:
            if binding.get("kind") not in ("ClusterRoleBinding", "RoleBinding") or not self._binds(binding):
                continue
            ref = binding["roleRef"]
            bound_ns = binding["metadata"].get("namespace")
            role_ns = bound_ns if ref["kind"] == "Role" else None
            rules = roles.get((ref["kind"], role_ns, ref["name"]))
            assert rules is not None, f"{binding['kind']} {binding['metadata']['name']} refers to a missing role"
            if binding["kind"] == "ClusterRoleBinding":
                self.cluster_rules.extend(rules)
            else:
                self.namespace_rules.setdefault(bound_ns, []).extend(rules)

    def _binds(self, binding: dict[str, Any]) -> bool:
        return any(
            (s.get("kind"), s.get("name"), s.get("namespace")) == self.subject for s in binding.get("subjects") or []
        )

    def allows(self, request: Request) -> bool:
        rules = list(self.cluster_rules)
        if request.namespace is not None:
            rules += self.namespace_rules.get(request.namespace, [])
        return any(_rule_allows(rule, request) for rule in rules)


def operator_service_account(objects: Sequence[dict[str, Any]]) -> tuple[str, str]:
    """(name, namespace) of the ServiceAccount the operator Deployment runs as."""
    deployment = of_kind(objects, "Deployment")
    assert len(deployment) == 1
    pod = deployment[0]["spec"]["template"]["spec"]
    return pod["serviceAccountName"], deployment[0]["metadata"]["namespace"]


def authorizer(*values: str) -> Authorizer:
    objects = helm_template(*values)
    name, namespace = operator_service_account(objects)
    return Authorizer(objects, name, namespace)
