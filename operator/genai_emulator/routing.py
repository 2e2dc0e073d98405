"""Parsing request URLs into API targets, and the simple records tests count requests with.

kmock's own URL parser fails on `/api/v1/namespaces` and misreads `/api/v1/namespaces/<ns>`
as a namespace scope, so the emulator parses paths itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

# Subresources of a Namespace object, as opposed to the plural of a namespaced resource.
_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})


@dataclasses.dataclass(frozen=True)
class Target:
    group: str
    version: str
    plural: str | None = None
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None


def parse_target(path: str) -> Target | None:
    """`/api/v1/...` and `/apis/<group>/<version>/...`; None for anything else."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace: str | None = None
    if (
        rest[:1] == ["namespaces"]
        and len(rest) >= 3
        and not (group == "" and len(rest) == 3 and rest[2] in _NAMESPACE_SUBRESOURCES)
    ):
        namespace, rest = rest[1], rest[2:]
    if not rest:
        return Target(group, version)
    plural, name, sub = rest[0], rest[1] if len(rest) > 1 else None, "/".join(rest[2:]) or None
    return Target(group, version, plural, namespace, name, sub)


def verb_of(method: str, target: Target | None, params: Mapping[str, str]) -> str:
    """The Kubernetes verb (what RBAC and audit logs call the request)."""
    if target is None or target.plural is None:
        return method.lower()
    watch = params.get("watch") in ("true", "1")
    if target.name is None:
        return {"GET": "watch" if watch else "list", "POST": "create", "DELETE": "deletecollection"}.get(
            method, method.lower()
        )
    # POST to an object's subresource (pods/proxy, pods/eviction) is RBAC's create.
    named = {
        "GET": "watch" if watch else "get",
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete",
    }
    return named.get(method, method.lower())


@dataclasses.dataclass
class RequestRecord:
    """One API request as the emulator saw it (status is filled in once answered)."""

    id: int
    method: str
    verb: str
    path: str
    group: str | None = None
    version: str | None = None
    resource: str | None = None  # the plural
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    params: dict[str, str] = dataclasses.field(default_factory=dict)
    content_type: str | None = None
    status: int | None = None

    @property
    def is_write(self) -> bool:
        return self.verb in ("create", "update", "patch", "delete", "deletecollection")

    def matches(
        self,
        *,
        verb: str | None = None,
        resource: str | None = None,
        namespace: str | None = None,
        name: str | None = None,
        subresource: str | None = None,
    ) -> bool:
        """Each given criterion must hold; `verb` also accepts the HTTP method."""
        if verb is not None and verb.lower() not in (self.verb, self.method.lower()):
            return False
        if resource is not None and not self.is_resource(resource):
            return False
        return (
            (namespace is None or namespace == self.namespace)
            and (name is None or name == self.name)
            and (subresource is None or subresource == self.subresource)
        )

    def is_resource(self, ref: str) -> bool:
        """Match 'deployments', 'Deployment', 'deployments.apps' or 'apps/v1/deployments'."""
        if self.resource is None:
            return False
        forms = {self.resource, f"{self.group}/{self.version}/{self.resource}".lstrip("/")}
        if self.group:
            forms.add(f"{self.resource}.{self.group}")
        if self.kind:
            forms.add(self.kind)
        return ref in forms
