"""`ControlPlane`: etcd, kube-apiserver (RBAC, its own PKI), kube-controller-manager, kube-scheduler and kwok
started as processes on free loopback ports, an admin kubeconfig written, torn down in reverse order.

The flags follow kwokctl's binary runtime, with the authorizer kwokctl leaves out (Node,RBAC), etcd without
fsync (a test cluster's data is thrown away), short HPA and node-monitor periods, and no leader election (a
restarted component does not wait out its own old lease).
"""

from __future__ import annotations

import atexit
import base64
import json
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genai_sandbox.admin import AdminClient
from genai_sandbox.binaries import Binaries, locate
from genai_sandbox.errors import SandboxError
from genai_sandbox.nodes import fake_nodes
from genai_sandbox.pki import Pki, make_pki
from genai_sandbox.process import Component, ensure_port_free, free_port, http_ok, insecure_context, log_tail

SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.128.0.0/9"
# kube-apiserver refuses a loopback advertise address; nothing ever connects to this one (no pods run).
ADVERTISE_ADDRESS = "192.0.2.10"


@dataclass
class ControlPlaneOptions:
    workdir: Path
    binaries: Binaries | None = None
    apiserver_port: int | None = None
    # The benchmark's setting (kwokctl's --disable-qps-limits): no inflight limits, no priority and fairness.
    unlimited: bool = False
    hpa_sync_seconds: int = 5
    # How long each component may take to answer its health check before start() gives up with its log.
    start_timeout: float = 90.0
    extra_apiserver_args: list[str] = field(default_factory=list)


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
        self._define(binaries, peer_port)
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

    def _define(self, binaries: Binaries, peer_port: int) -> None:
        assert self.pki is not None and self.admin is not None
        pki, logs, kubeconfig = self.pki, self.workdir / "logs", str(self.kubeconfig_path)
        etcd_url, peer_url = f"http://127.0.0.1:{self.etcd_port}", f"http://127.0.0.1:{peer_port}"
        cm_port, scheduler_port, kwok_port = free_port(), free_port(), free_port()
        insecure = insecure_context()
        always_allow = "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics"
        qps = ["--kube-api-qps=5000", "--kube-api-burst=10000"] if self.options.unlimited else []
        limits = (
            ["--max-requests-inflight=0", "--max-mutating-requests-inflight=0", "--enable-priority-and-fairness=false"]
            if self.options.unlimited
            else []
        )

        def component(name: str, argv: list[str], health: Any) -> None:
            self.components[name] = Component(name, argv, logs / f"{name}.log", health, self.workdir)

        component(
            "etcd",
            [
                binaries.path("etcd"),
                "--name=node0",
                f"--data-dir={self.workdir / 'etcd'}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=node0={peer_url}",
                "--unsafe-no-fsync",
                "--quota-backend-bytes=8589934592",
                "--log-level=warn",
            ],
            lambda: http_ok(f"{etcd_url}/health"),
        )
        component(
            "kube-apiserver",
            [
                binaries.path("kube-apiserver"),
                f"--etcd-servers={etcd_url}",
                "--etcd-prefix=/registry",
                "--bind-address=127.0.0.1",
                f"--secure-port={self.apiserver_port}",
                f"--advertise-address={ADVERTISE_ADDRESS}",
                f"--service-cluster-ip-range={SERVICE_CIDR}",
                f"--tls-cert-file={pki.server_cert}",
                f"--tls-private-key-file={pki.server_key}",
                f"--client-ca-file={pki.ca_cert}",
                "--authorization-mode=Node,RBAC",
                f"--service-account-key-file={pki.service_account_public_key}",
                f"--service-account-signing-key-file={pki.service_account_key}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                "--allow-privileged=true",
                *limits,
                *self.options.extra_apiserver_args,
            ],
            lambda: self.api.ok("/readyz"),
        )
        component(
            "kube-controller-manager",
            [
                binaries.path("kube-controller-manager"),
                f"--kubeconfig={kubeconfig}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                f"--secure-port={cm_port}",
                always_allow,
                f"--root-ca-file={pki.ca_cert}",
                f"--service-account-private-key-file={pki.service_account_key}",
                f"--cluster-signing-cert-file={pki.ca_cert}",
                f"--cluster-signing-key-file={pki.ca_key}",
                f"--horizontal-pod-autoscaler-sync-period={self.options.hpa_sync_seconds}s",
                "--node-monitor-period=25s",
                "--node-monitor-grace-period=3m20s",
                *qps,
            ],
            lambda: http_ok(f"https://127.0.0.1:{cm_port}/healthz", insecure),
        )
        component(
            "kube-scheduler",
            [
                binaries.path("kube-scheduler"),
                f"--kubeconfig={kubeconfig}",
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                f"--secure-port={scheduler_port}",
                always_allow,
                *qps,
            ],
            lambda: http_ok(f"https://127.0.0.1:{scheduler_port}/healthz", insecure),
        )
        component(
            "kwok",
            [
                binaries.path("kwok"),
                f"--kubeconfig={kubeconfig}",
                "--manage-all-nodes=true",
                *(f"--config={stage}" for stage in binaries.stages),
                f"--cidr={POD_CIDR}",
                "--node-ip=10.0.0.1",
                "--node-name=localhost",
                f"--node-port={kwok_port}",
                f"--server-address=127.0.0.1:{kwok_port}",
                "--node-lease-duration-seconds=200",
            ],
            lambda: http_ok(f"http://127.0.0.1:{kwok_port}/healthz"),
        )
