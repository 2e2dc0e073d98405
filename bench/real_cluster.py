"""The benchmark's cluster on the real control plane (`bench/run.py --cluster real`): a fresh etcd, kube-apiserver,
kube-controller-manager, kube-scheduler and kwok per phase (genai_sandbox), without inflight limits, as kwokctl
runs them for load. The same questions as on the emulator, answered the real way:

- requests are counted from the kube-apiserver's audit log, which records (at Metadata level) every request of
  the two benchmark identities, the operator's and the floor's ServiceAccounts;
- readiness is read from a watch of ModelDeployments and Deployments kept by this process (no polling lists);
- the control plane's CPU (apiserver, etcd, controller-manager, scheduler, kwok) is read from /proc.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from genai_sandbox import ControlPlane, ControlPlaneOptions
from genai_sandbox.binaries import locate
from genai_sandbox.nodes import fake_nodes

ROOT = Path(__file__).resolve().parents[1]
NAMESPACE = "genai-bench"
OPERATOR_USER = f"system:serviceaccount:{NAMESPACE}:operator"
FLOOR_USER = f"system:serviceaccount:{NAMESPACE}:floor"
WRITE_VERBS = frozenset({"create", "update", "patch", "delete", "deletecollection"})
AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived"],
    "rules": [{"level": "Metadata", "users": [OPERATOR_USER, FLOOR_USER]}, {"level": "None"}],
}


@dataclass(frozen=True)
class AuditRecord:
    """One request of a benchmark identity, shaped like the emulator's RequestRecord for the report."""

    verb: str
    resource: str
    subresource: str
    namespace: str
    user: str

    @property
    def is_write(self) -> bool:
        return self.verb in WRITE_VERBS


class AuditLog:
    """The audit log read incrementally; `mark()` starts a new window (what the emulator's clear does)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.records: list[AuditRecord] = []
        self.watches: set[tuple[str, str]] = set()

    def _read(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as log:
            log.seek(self.offset)
            chunk = log.read()
        end = chunk.rfind(b"\n") + 1  # a line being written is read next time
        self.offset += end
        for line in chunk[:end].splitlines():
            event = json.loads(line)
            ref = event.get("objectRef") or {}
            user = event["user"]["username"]
            if event["verb"] == "watch" and event["stage"] == "ResponseStarted":
                self.watches.add((user, ref.get("resource", "")))
            if event["stage"] != "ResponseComplete" or event["verb"] == "watch":
                continue
            self.records.append(
                AuditRecord(
                    event["verb"], ref.get("resource", ""), ref.get("subresource", ""), ref.get("namespace", ""), user
                )
            )

    def mark(self) -> None:
        self._read()
        self.records = []

    def since_mark(self) -> list[AuditRecord]:
        self._read()
        return list(self.records)


class WatchedCount:
    """How many objects of one resource are ready, from a list and a watch this process keeps open."""

    def __init__(self, plane: ControlPlane, path: str, ready: Any) -> None:
        self.plane, self.path, self.is_ready = plane, path, ready
        self.ready: dict[tuple[str, str], bool] = {}
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"watch {path}", daemon=True)
        self.thread.start()

    def count(self) -> int:
        return sum(self.ready.values())

    def _key(self, obj: dict[str, Any]) -> tuple[str, str]:
        return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]

    def _run(self) -> None:
        while not self.stopped.is_set():
            try:
                self._list_and_watch()
            except (OSError, ValueError, KeyError):  # not served yet (a CRD being established), or cut off
                time.sleep(0.5)

    def _list_and_watch(self) -> None:
        _, listed = self.plane.api.request("GET", self.path, timeout=60)
        self.ready = {self._key(o): bool(self.is_ready(o)) for o in listed.get("items", [])}
        version = listed["metadata"]["resourceVersion"]
        request = self.plane.api.stream(f"{self.path}?watch=true&resourceVersion={version}&allowWatchBookmarks=true")
        with request as stream:
            for line in stream:
                if self.stopped.is_set():
                    return
                event = json.loads(line)
                obj = event["object"]
                if event["type"] == "ERROR":
                    return  # relist
                if event["type"] == "DELETED":
                    self.ready.pop(self._key(obj), None)
                elif event["type"] in ("ADDED", "MODIFIED"):
                    self.ready[self._key(obj)] = bool(self.is_ready(obj))

    def stop(self) -> None:
        self.stopped.set()


def _md_ready(obj: dict[str, Any]) -> bool:
    status = obj.get("status") or {}
    return status.get("observedGeneration") == obj["metadata"].get("generation") and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or []
    )


def _deployment_ready(obj: dict[str, Any]) -> bool:
    status = obj.get("status") or {}
    wanted = int((obj.get("spec") or {}).get("replicas", 1))
    return (
        status.get("observedGeneration") == obj["metadata"].get("generation")
        and int(status.get("readyReplicas") or 0) >= wanted
    )


class RealBenchCluster:
    """One phase's control plane; the interface scenario.py uses on either backend."""

    name = "real"

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        policy = workdir / "audit-policy.yaml"
        self.audit = AuditLog(workdir / "audit.log")
        workdir.mkdir(parents=True, exist_ok=True)
        policy.write_text(yaml.safe_dump(AUDIT_POLICY))
        self.plane = ControlPlane(
            ControlPlaneOptions(
                workdir=workdir,
                binaries=locate(),
                unlimited=True,
                extra_apiserver_args=[
                    f"--audit-policy-file={policy}",
                    f"--audit-log-path={self.audit.path}",
                    "--audit-log-format=json",
                    "--audit-log-maxsize=0",
                ],
            )
        )
        self.watchers: list[WatchedCount] = []
        self.kubeconfig_path = workdir / "operator.kubeconfig"
        self.floor_kubeconfig_path = workdir / "floor.kubeconfig"

    async def __aenter__(self) -> RealBenchCluster:
        await asyncio.to_thread(self._start)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for watcher in self.watchers:
            watcher.stop()
        await asyncio.to_thread(self.plane.stop)
        shutil.rmtree(self.workdir / "etcd", ignore_errors=True)  # the logs stay, the data goes

    def _start(self) -> None:
        plane = self.plane.start()
        result = plane.kubectl("apply", "--server-side", "-f", str(ROOT / "crds"))
        if result.returncode != 0:
            raise RuntimeError(f"the CRDs were refused: {result.stderr}")
        for crd in ("modeldeployments.genaiops.dev", "placementpools.genaiops.dev"):
            plane.kubectl("wait", "--for=condition=Established", f"crd/{crd}", "--timeout=60s")
        plane.api.must("POST", "/api/v1/namespaces", {"metadata": {"name": NAMESPACE}}, accept=(201,))
        for account in ("operator", "floor"):
            plane.api.must(
                "POST",
                f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts",
                {"metadata": {"name": account}},
                accept=(201,),
            )
            plane.api.must(
                "POST",
                "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                {
                    "metadata": {"name": f"genai-bench-{account}"},
                    "roleRef": {
                        "apiGroup": "rbac.authorization.k8s.io",
                        "kind": "ClusterRole",
                        "name": "cluster-admin",
                    },
                    "subjects": [{"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}],
                },
                accept=(201,),
            )
        plane.service_account_kubeconfig(NAMESPACE, "operator", self.kubeconfig_path)
        plane.service_account_kubeconfig(NAMESPACE, "floor", self.floor_kubeconfig_path)
        self.models = WatchedCount(plane, "/apis/genaiops.dev/v1alpha1/modeldeployments", _md_ready)
        self.deployments = WatchedCount(plane, "/apis/apps/v1/deployments", _deployment_ready)
        self.watchers = [self.models, self.deployments]

    # -- the interface of scenario.py ------------------------------------------------------------------------
    def install(self, nodes: list[dict[str, Any]], pools: list[dict[str, Any]]) -> None:
        names = [n["metadata"]["name"] for n in fake_nodes(nodes)]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(self.plane.api.create_node, fake_nodes(nodes)))
        self.plane.wait_nodes_ready(names, timeout=120 + len(names) / 5)
        for manifest in pools:
            self.plane.api.must("POST", "/apis/genaiops.dev/v1alpha1/placementpools", manifest, accept=(201,))

    def prepare(self, manifests: Iterable[dict[str, Any]]) -> None:
        """The namespaces of the manifests (and their default ServiceAccounts), before any clock starts."""
        namespaces = {m["metadata"]["namespace"] for m in manifests}
        for namespace in namespaces:
            self.plane.api.must("POST", "/api/v1/namespaces", {"metadata": {"name": namespace}}, accept=(201, 409))
        deadline = time.monotonic() + 60
        for namespace in namespaces:
            while not self.plane.api.ok(f"/api/v1/namespaces/{namespace}/serviceaccounts/default"):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no default ServiceAccount in {namespace}")
                time.sleep(0.1)

    def create_all(self, manifests: Iterable[dict[str, Any]]) -> None:
        def create(manifest: dict[str, Any]) -> None:
            namespace = manifest["metadata"]["namespace"]
            self.plane.api.must(
                "POST", f"/apis/genaiops.dev/v1alpha1/namespaces/{namespace}/modeldeployments", manifest, accept=(201,)
            )

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(create, manifests))

    def ready_model_deployments(self) -> int:
        return self.models.count()

    def ready_deployments(self) -> int:
        return self.deployments.count()

    def watching(self, resources: frozenset[str]) -> bool:
        self.audit.since_mark()
        return {r for user, r in self.audit.watches if user == OPERATOR_USER} >= resources

    def clear_requests(self) -> None:
        self.audit.mark()

    def requests(self) -> list[AuditRecord]:
        return self.audit.since_mark()

    def backend_cpu(self) -> dict[str, float]:
        return {name: round(seconds, 2) for name, seconds in self.plane.cpu_seconds().items()}
