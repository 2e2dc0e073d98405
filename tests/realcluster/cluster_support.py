"""Helpers of the real-control-plane tier: the operator as a `genai-operator run` process with a kubeconfig,
reads through the admin client, polling until a condition holds, and kubectl/helm with the cluster's kubeconfig.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from genai_sandbox import ControlPlane
from genai_sandbox.process import free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
INVENTORY = EXAMPLES / "inventory"
GROUP = "/apis/genaiops.dev/v1alpha1"
# How the RBAC authorizer words a refusal (a 403 for a namespace being deleted is not one).
RBAC_DENIAL = re.compile(r'User "[^"]+" cannot [a-z]+ resource "[^"]+"[^\n]*')


def example(name: str) -> dict[str, Any]:
    doc = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def md_path(namespace: str, name: str = "") -> str:
    return f"{GROUP}/namespaces/{namespace}/modeldeployments" + (f"/{name}" if name else "")


def get(plane: ControlPlane, path: str) -> dict[str, Any] | None:
    status, answer = plane.api.request("GET", path)
    if status == 404:
        return None
    assert status == 200, f"GET {path}: {status} {answer}"
    assert isinstance(answer, dict)
    return answer


def items(plane: ControlPlane, path: str) -> list[dict[str, Any]]:
    answer = get(plane, path)
    return list((answer or {}).get("items", []))


def eventually(check: Callable[[], Any], timeout: float = 60.0, interval: float = 0.25, what: str = "") -> Any:
    """Polls `check` until it returns something truthy; fails with its last value after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except AssertionError as exc:
            last = exc
        time.sleep(interval)
    raise AssertionError(f"{what or 'condition'} not met within {timeout:.0f}s; last: {last!r}"[:4000])


def condition(obj: dict[str, Any] | None, type_: str) -> dict[str, Any]:
    for cond in ((obj or {}).get("status") or {}).get("conditions") or []:
        if cond["type"] == type_:
            return dict(cond)
    return {}


def is_ready(obj: dict[str, Any] | None) -> bool:
    return (
        bool(obj)
        and condition(obj, "Ready").get("status") == "True"
        and (obj or {}).get("status", {}).get("observedGeneration") == (obj or {})["metadata"].get("generation")
    )


def create_namespace(plane: ControlPlane, name: str, labels: dict[str, str] | None = None) -> None:
    plane.api.must(
        "POST",
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}},
        accept=(201, 409),
    )
    # Pods are refused in a namespace until the controller-manager has made its default ServiceAccount.
    eventually(
        lambda: get(plane, f"/api/v1/namespaces/{name}/serviceaccounts/default"),
        30,
        what=f"the default ServiceAccount of {name}",
    )


def delete_namespace(plane: ControlPlane, name: str) -> None:
    """Deletes a namespace and waits until it is gone: its pods give their GPUs back before the next test."""
    plane.api.request("DELETE", f"/api/v1/namespaces/{name}")
    eventually(lambda: get(plane, f"/api/v1/namespaces/{name}") is None, 120, what=f"namespace {name} deleted")


def apply(plane: ControlPlane, manifest: dict[str, Any], *, kubeconfig: Path | None = None) -> None:
    result = plane.kubectl(
        "apply",
        "--server-side",
        "--field-manager=tests",
        "-f",
        "-",
        input_text=yaml.safe_dump(manifest),
        kubeconfig=kubeconfig,
    )
    assert result.returncode == 0, result.stderr


class OperatorProcess:
    """`genai-operator run` as a process with this kubeconfig; its output goes to a log file."""

    def __init__(self, kubeconfig: Path, log: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.metrics_port = free_port()
        self.log_path = log
        self.argv = [
            sys.executable,
            "-m",
            "genai_operator",
            "run",
            "--kubeconfig",
            str(kubeconfig),
            "--metrics-port",
            str(self.metrics_port),
            *args,
        ]
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> OperatorProcess:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, env=self.env)
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no clean-up, as an evicted or OOM-killed pod."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)
        self.process = None

    def stop(self) -> int:
        """SIGTERM, as the kubelet stops a pod; returns the exit code."""
        if self.process is None:
            return 0
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            raise AssertionError(f"the operator ignored SIGTERM for 30s; log:\n{self.log()[-3000:]}") from None
        self.process = None
        return code


@contextlib.contextmanager
def operator(
    kubeconfig: Path, log: Path, *args: str, env: dict[str, str] | None = None, denials_expected: bool = False
) -> Iterator[OperatorProcess]:
    """The operator for the length of the block; it must stop on SIGTERM with exit 0 and no traceback, and the
    real authorizer must never have refused it (unless `denials_expected`: a freshly restarted apiserver answers
    403 until its RBAC informers have synced, which the operator must ride out)."""
    process = OperatorProcess(kubeconfig, log, *args, env=env).start()
    try:
        yield process
    finally:
        code = process.stop()
    output = process.log()
    assert code == 0, output[-4000:]
    assert "Traceback" not in output, output[-4000:]
    denied = RBAC_DENIAL.findall(output)
    assert denials_expected or not denied, "the apiserver's authorizer refused the operator:\n" + "\n".join(denied)


def wait_ready(plane: ControlPlane, namespace: str, name: str, timeout: float = 90) -> dict[str, Any]:
    """The ModelDeployment once Ready for its generation; on a timeout, the failure shows its conditions."""

    def check() -> dict[str, Any]:
        md = get(plane, md_path(namespace, name))
        assert md is not None, f"{namespace}/{name} does not exist"
        conditions = {
            c["type"]: f"{c['status']} {c.get('reason')}: {c.get('message')}"
            for c in md.get("status", {}).get("conditions", [])
        }
        assert is_ready(md), f"not Ready: {conditions}; pods: {_pods_summary(plane, namespace)}"
        return md

    return dict(eventually(check, timeout, what=f"{namespace}/{name} Ready"))


def _pods_summary(plane: ControlPlane, namespace: str) -> list[str]:
    """Where each pod of the namespace is and why it is not running (the scheduler's word), for failures."""
    summary = []
    for pod in items(plane, f"/api/v1/namespaces/{namespace}/pods"):
        status = pod.get("status", {})
        unscheduled = [c.get("message", "") for c in status.get("conditions", []) if c.get("status") == "False"]
        summary.append(
            f"{pod['metadata']['name']} {status.get('phase')} on {pod['spec'].get('nodeName')} {'; '.join(unscheduled)}"
        )
    return summary
