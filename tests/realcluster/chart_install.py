"""The chart installed with the real helm into the real control plane, and the operator run as the chart would
run it: the arguments and environment of the installed Deployment's container, authenticated with a
TokenRequest token of the chart's own ServiceAccount, so the real RBAC authorizer judges every request.

No kubelet runs the chart's pod here (kwok only pretends to), so the operator runs on this machine instead,
with exactly that pod's identity and configuration.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cluster_support import ROOT, OperatorProcess, create_namespace, get, operator
from genai_sandbox import ControlPlane

CHART = ROOT / "charts" / "genai-operator"


@dataclass(frozen=True)
class Release:
    name: str
    namespace: str
    service_account: str
    args: list[str]
    env: dict[str, str]


def helm_install(plane: ControlPlane, name: str, namespace: str, *values: str) -> Release:
    helm = shutil.which("helm") or str(ROOT / ".venv" / "bin" / "helm")
    create_namespace(plane, namespace)
    result = subprocess.run(
        [
            helm,
            "upgrade",
            "--install",
            name,
            str(CHART),
            "--namespace",
            namespace,
            "--kubeconfig",
            str(plane.kubeconfig_path),
            "--wait=false",
            *values,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"helm install {name} failed:\n{result.stdout}\n{result.stderr}"
    deployments = (get(plane, f"/apis/apps/v1/namespaces/{namespace}/deployments") or {}).get("items", [])
    deployment = next(d for d in deployments if d["metadata"]["labels"].get("app.kubernetes.io/instance") == name)
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    return Release(
        name=name,
        namespace=namespace,
        service_account=pod["serviceAccountName"],
        args=list(container.get("args", [])),
        env=_env(container, namespace, name),
    )


def _env(container: dict[str, Any], namespace: str, pod_name: str) -> dict[str, str]:
    env: dict[str, str] = {}
    fields = {"metadata.namespace": namespace, "metadata.name": f"{pod_name}-local"}
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
        elif "fieldRef" in var.get("valueFrom", {}):
            env[var["name"]] = fields[var["valueFrom"]["fieldRef"]["fieldPath"]]
        else:
            raise AssertionError(f"the chart's env {var['name']} comes from {var['valueFrom']}: teach the tests")
    return env


def operator_argv(release: Release, *, standalone: bool = False) -> list[str]:
    """The chart's container arguments after `run`, without the port (the test picks a free one)."""
    args = [a for a in release.args if a != "run" and not a.startswith("--metrics-port")]
    return [*args, "--standalone"] if standalone else args


def service_account_kubeconfig(plane: ControlPlane, release: Release, directory: Path) -> Path:
    return plane.service_account_kubeconfig(
        release.namespace, release.service_account, directory / f"{release.name}.kubeconfig"
    )


@contextlib.contextmanager
def chart_operator(plane: ControlPlane, release: Release, directory: Path) -> Iterator[OperatorProcess]:
    """The operator as the chart runs it (its ServiceAccount, arguments and environment), logging in `directory`."""
    kubeconfig = service_account_kubeconfig(plane, release, directory)
    with operator(kubeconfig, directory / "operator.log", *operator_argv(release), env=release.env) as process:
        yield process
