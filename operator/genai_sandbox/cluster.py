"""`ControlPlane`: etcd, kube-apiserver (RBAC, its own PKI), kube-controller-manager, kube-scheduler and kwok
started as processes on free loopback ports (their flags: components.py), an admin kubeconfig written, torn
down in reverse order.
"""

from __future__ import annotations

import atexit
import base64
import json
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from genai_sandbox.admin import AdminClient
from genai_sandbox.binaries import locate
from genai_sandbox.components import ADVERTISE_ADDRESS, ComponentPorts, ControlPlaneOptions, define_components
from genai_sandbox.errors import SandboxError
from genai_sandbox.nodes import fake_nodes
from genai_sandbox.pki import Pki, make_pki
from genai_sandbox.process import Component, ensure_port_free, free_port, log_tail


class ControlPlane:
    def __init__(self, options: ControlPlaneOptions) -> None:
        self.options = options
        self.workdir = options.workdir
        self.components: dict[str, Component] = {}
        self.pki: Pki | None = None
        self.admin: AdminClient | None = None
        self.kubeconfig_path = self.workdir / "kubeconfig"
        self.etcd_port = 0
        self.apiserver_port = 0

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> ControlPlane:
        binaries = self.options.binaries or locate()
        for sub in ("logs", "etcd", "pki"):
            (self.workdir / sub).mkdir(parents=True, exist_ok=True)
        self.etcd_port, peer_port = free_port(), free_port()
        self.apiserver_port = self.options.apiserver_port or free_port()
        ensure_port_free(self.apiserver_port, "kube-apiserver")
        self.pki = make_pki(self.workdir / "pki", server_addresses=["127.0.0.1", ADVERTISE_ADDRESS, "10.96.0.1"])
        server = f"https://127.0.0.1:{self.apiserver_port}"
        self.admin = AdminClient(server, self.pki.ca_cert, self.pki.admin_cert, self.pki.admin_key)
        self.kubeconfig_path.write_text(
            self.admin.kubeconfig(
                {"client-certificate": str(self.pki.admin_cert), "client-key": str(self.pki.admin_key)}
            )
        )
        self.components = define_components(
            ComponentPorts(self.etcd_port, peer_port, self.apiserver_port),
            binaries,
            self.pki,
            self.options,
            self.kubeconfig_path,
            apiserver_ready=lambda: self.api.ok("/readyz"),
        )
        atexit.register(self.stop)  # an interrupted test run or benchmark leaves no component behind
        try:
            for name in ("etcd", "kube-apiserver"):
                self._start(name)
            self._wait_for_default_namespace()
            for name in ("kube-controller-manager", "kube-scheduler", "kwok"):
                self._start(name)
            self._wait_for_service_account("default", "default")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for name in reversed(list(self.components)):
            self.components[name].stop()

    def __enter__(self) -> ControlPlane:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def restart(self, name: str, *, down_seconds: float = 0.0) -> None:
        """Stops one component and starts it again on the same ports (an apiserver restart, say)."""
        component = self.components[name]
        component.stop()
        time.sleep(down_seconds)
        self._start(name)

    # -- what tests and the benchmark use -------------------------------------------------------------
    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.apiserver_port}"

    @property
    def api(self) -> AdminClient:
        if self.admin is None:
            raise SandboxError("the control plane is not started")
        return self.admin

    def add_nodes(self, nodes: list[dict[str, Any]], copies: int = 1) -> list[str]:
        names = []
        for node in fake_nodes(nodes, copies):
            self.api.create_node(node)
            names.append(node["metadata"]["name"])
        return names

    def wait_nodes_ready(self, names: list[str], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        pending = set(names)
        while pending and time.monotonic() < deadline:
            _, answer = self.api.request("GET", "/api/v1/nodes")
            for node in (answer or {}).get("items", []):
                conditions = {c["type"]: c["status"] for c in node.get("status", {}).get("conditions", [])}
                if conditions.get("Ready") == "True":
                    pending.discard(node["metadata"]["name"])
            if pending:
                time.sleep(0.2)
        if pending:
            raise SandboxError(
                f"nodes not Ready after {timeout:.0f}s: {sorted(pending)[:5]}; kwok's log:\n"
                f"{log_tail(self.components['kwok'].log_path)}"
            )

    def service_account_kubeconfig(self, namespace: str, service_account: str, path: Path) -> Path:
        """A kubeconfig that authenticates as the ServiceAccount with a TokenRequest token, as its pod would."""
        path.write_text(self.api.kubeconfig({"token": self.api.token(namespace, service_account)}))
        return path

    def kubectl(
        self, *args: str, kubeconfig: Path | None = None, input_text: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        kubectl = shutil.which("kubectl")
        if kubectl is None:
            raise SandboxError("kubectl is not on PATH (bash scripts/install-tools.sh puts one in .venv/bin)")
        return subprocess.run(
            [kubectl, "--kubeconfig", str(kubeconfig or self.kubeconfig_path), *args],
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def etcd_revision(self) -> int:
        answer = self._etcd("/v3/kv/range", {"key": base64.b64encode(b"/registry").decode(), "limit": 1})
        return int(answer["header"]["revision"])

    def compact_etcd(self) -> int:
        """Compacts etcd's history up to now, as the apiserver's periodic compaction would: older revisions are
        gone, and a watch that resumes from one is answered 410 Gone."""
        revision = self.etcd_revision()
        self._etcd("/v3/kv/compaction", {"revision": str(revision), "physical": True})
        return revision

    def cpu_seconds(self) -> dict[str, float]:
        return {name: component.cpu_seconds() for name, component in self.components.items()}

    def pids(self) -> dict[str, int | None]:
        return {name: component.pid for name, component in self.components.items()}

    def log_tails(self, lines: int = 12) -> str:
        return "\n".join(
            f"--- {name} ({c.log_path})\n{log_tail(c.log_path, lines)}" for name, c in self.components.items()
        )

    # -- internals ------------------------------------------------------------------------------------
    def _etcd(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.etcd_port}{path}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer

    def _start(self, name: str) -> None:
        component = self.components[name]
        component.start()
        component.wait_healthy(self.options.start_timeout)

    def _wait_for_default_namespace(self) -> None:
        deadline = time.monotonic() + self.options.start_timeout
        while time.monotonic() < deadline:
            if self.api.ok("/api/v1/namespaces/default"):
                return
            time.sleep(0.1)
        raise SandboxError(f"the apiserver never created namespace default:\n{self.log_tails()}")

    def _wait_for_service_account(self, namespace: str, name: str) -> None:
        deadline = time.monotonic() + self.options.start_timeout
        while time.monotonic() < deadline:
            if self.api.ok(f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}"):
                return
            time.sleep(0.1)
        raise SandboxError(
            "the controller-manager never created the default ServiceAccount; its log:\n"
            f"{log_tail(self.components['kube-controller-manager'].log_path)}"
        )
