"""The command line of each control-plane component, in start order: etcd, kube-apiserver,
kube-controller-manager, kube-scheduler and kwok, each with the health check that says it is up.

The flags follow kwokctl's binary runtime, with the authorizer kwokctl leaves out (Node,RBAC), etcd without
fsync (a test cluster's data is thrown away), short HPA and node-monitor periods, and no leader election (a
restarted component does not wait out its own old lease).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from genai_sandbox.binaries import Binaries
from genai_sandbox.pki import Pki
from genai_sandbox.process import Component, free_port, http_ok, insecure_context

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


@dataclass(frozen=True)
class ComponentPorts:
    etcd: int
    etcd_peer: int
    apiserver: int


def define_components(
    ports: ComponentPorts,
    binaries: Binaries,
    pki: Pki,
    options: ControlPlaneOptions,
    kubeconfig_path: Path,
    *,
    apiserver_ready: Callable[[], bool],
) -> dict[str, Component]:
    workdir = options.workdir
    logs, kubeconfig = workdir / "logs", str(kubeconfig_path)
    etcd_url, peer_url = f"http://127.0.0.1:{ports.etcd}", f"http://127.0.0.1:{ports.etcd_peer}"
    cm_port, scheduler_port, kwok_port = free_port(), free_port(), free_port()
    insecure = insecure_context()
    always_allow = "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics"
    qps = ["--kube-api-qps=5000", "--kube-api-burst=10000"] if options.unlimited else []
    limits = (
        ["--max-requests-inflight=0", "--max-mutating-requests-inflight=0", "--enable-priority-and-fairness=false"]
        if options.unlimited
        else []
    )

    components: dict[str, Component] = {}

    def component(name: str, argv: list[str], health: Callable[[], bool]) -> None:
        components[name] = Component(name, argv, logs / f"{name}.log", health, workdir)

    component(
        "etcd",
        [
            binaries.path("etcd"),
            "--name=node0",
            f"--data-dir={workdir / 'etcd'}",
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
            f"--secure-port={ports.apiserver}",
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
            *options.extra_apiserver_args,
        ],
        apiserver_ready,
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
            f"--horizontal-pod-autoscaler-sync-period={options.hpa_sync_seconds}s",
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
    return components
