"""The sandbox's own requests to its apiserver, as the admin (system:masters) over HTTPS: readiness, nodes,
service-account tokens and kubeconfigs. Standard library only."""

from __future__ import annotations

import contextlib
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from genai_sandbox.errors import SandboxError


class AdminClient:
    def __init__(self, server: str, ca_cert: Path, client_cert: Path, client_key: Path) -> None:
        self.server = server
        self.ca_cert = ca_cert
        self.context = ssl.create_default_context(cafile=str(ca_cert))
        self.context.load_cert_chain(str(client_cert), str(client_key))

    def request(
        self, method: str, path: str, body: Any = None, *, timeout: float = 10, content_type: str | None = None
    ) -> tuple[int, Any]:
        """One request; a PATCH is a JSON merge patch unless `content_type` says otherwise."""
        content_type = content_type or ("application/merge-patch+json" if method == "PATCH" else "application/json")
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.server + path,
            data=data,
            method=method,
            headers={"Content-Type": content_type, "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.context) as response:
                raw = response.read()
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            raw, status = exc.read(), exc.code
        text = raw.decode(errors="replace")
        try:
            return status, json.loads(text) if text else None
        except json.JSONDecodeError:
            return status, text

    @contextlib.contextmanager
    def stream(self, path: str, timeout: float | None = None) -> Iterator[Iterator[bytes]]:
        """A watch: the response's lines (one JSON event each) as they arrive."""
        req = urllib.request.Request(self.server + path, headers={"Accept": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout, context=self.context) as response:
            yield iter(response)

    def ok(self, path: str) -> bool:
        try:
            status, _ = self.request("GET", path, timeout=2)
        except (urllib.error.URLError, OSError):
            return False
        return status == 200

    def must(self, method: str, path: str, body: Any = None, *, accept: tuple[int, ...] = (200, 201)) -> Any:
        status, answer = self.request(method, path, body)
        if status not in accept:
            message = answer.get("message") if isinstance(answer, dict) else answer
            raise SandboxError(f"{method} {path} answered {status}: {message}")
        return answer

    def create_node(self, node: dict[str, Any]) -> None:
        """A fake node for kwok, status included (capacity and allocatable are kept as given)."""
        status, answer = self.request("POST", "/api/v1/nodes", node)
        if status == 409:
            return
        if status != 201:
            message = answer.get("message") if isinstance(answer, dict) else answer
            raise SandboxError(f"node {node['metadata']['name']} was refused ({status}): {message}")

    def token(self, namespace: str, service_account: str, seconds: int = 3600) -> str:
        """A bound token for a ServiceAccount (TokenRequest), as a pod of it would mount."""
        path = f"/api/v1/namespaces/{namespace}/serviceaccounts/{service_account}/token"
        answer = self.must(
            "POST",
            path,
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": seconds}},
        )
        return str(answer["status"]["token"])

    def kubeconfig(self, user: dict[str, Any], name: str = "genai-sandbox") -> str:
        return yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": name,
                "clusters": [
                    {"name": name, "cluster": {"server": self.server, "certificate-authority": str(self.ca_cert)}}
                ],
                "users": [{"name": name, "user": user}],
                "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            },
            sort_keys=False,
        )
