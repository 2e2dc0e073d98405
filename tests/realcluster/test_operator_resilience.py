"""The operator through what a real control plane does to it, as the chart's ServiceAccount: two operators
sharing the chart's leader Lease (one reconciles; the other takes over when the leader is killed); an operator
killed (SIGKILL) in the middle of creating children and started again (no duplicates, everything converges);
the kube-apiserver restarted under a running operator (it reconnects and converges); and watches resuming
after etcd compacted their resourceVersion away (410 Gone, relist, converge).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from chart_install import Release, operator_argv, service_account_kubeconfig
from cluster_support import (
    RBAC_DENIAL,
    OperatorProcess,
    apply,
    eventually,
    example,
    get,
    items,
    md_path,
    operator,
    wait_ready,
)
from genai_sandbox import ControlPlane

MD_LABEL = "genaiops.dev/model-deployment"


def _md(namespace: str, name: str, replicas: int = 1) -> dict[str, Any]:
    manifest = example("llama-8b-bf16-l4.yaml")
    manifest["metadata"] = {"name": name, "namespace": namespace}
    manifest["spec"]["replicas"] = replicas
    return manifest


def _kubeconfig(plane: ControlPlane, release: Release, tmp_path: Path) -> Path:
    return service_account_kubeconfig(plane, release, tmp_path)


def test_two_operators_share_the_lease_and_the_stand_by_takes_over(
    control_plane: ControlPlane, cluster_release: Release, tmp_path: Path, namespace: str
) -> None:
    kubeconfig = _kubeconfig(control_plane, cluster_release, tmp_path)
    lease_path = (
        f"/apis/coordination.k8s.io/v1/namespaces/{cluster_release.namespace}/leases/"
        f"{cluster_release.env['GENAI_OPERATOR_LEASE_NAME']}"
    )
    first = OperatorProcess(
        kubeconfig,
        tmp_path / "first.log",
        *operator_argv(cluster_release),
        env={**cluster_release.env, "POD_NAME": "first"},
    ).start()
    try:
        lease = eventually(
            lambda: (lease := get(control_plane, lease_path)) and lease["spec"].get("holderIdentity") and lease,
            60,
            what="the first operator holding the lease",
        )
        holder = lease["spec"]["holderIdentity"]
        with operator(
            kubeconfig, tmp_path / "second.log", *operator_argv(cluster_release), env=cluster_release.env
        ) as second:
            apply(control_plane, _md(namespace, "one"))
            wait_ready(control_plane, namespace, "one")
            time.sleep(2)
            assert get(control_plane, lease_path)["spec"]["holderIdentity"] == holder  # type: ignore[index]
            first.kill()  # no release: the stand-by waits out the lease, then takes over
            taken = eventually(
                lambda: (
                    (lease := get(control_plane, lease_path))
                    and lease["spec"].get("holderIdentity") not in (None, holder)
                    and lease
                ),
                90,
                what="the stand-by taking the lease",
            )
            assert taken["spec"]["holderIdentity"] != holder
            apply(control_plane, _md(namespace, "two"))
            wait_ready(control_plane, namespace, "two")
            assert "two-cloud-l4" not in first.log()  # it was dead before `two` existed
            assert second.process is not None
    finally:
        if first.process is not None:
            first.stop()


def test_an_operator_killed_mid_create_converges_without_duplicates_when_restarted(
    control_plane: ControlPlane, cluster_release: Release, tmp_path: Path, namespace: str
) -> None:
    kubeconfig = _kubeconfig(control_plane, cluster_release, tmp_path)
    args = [*operator_argv(cluster_release, standalone=True)]
    names = [f"m{i}" for i in range(4)]
    crashed = OperatorProcess(kubeconfig, tmp_path / "crashed.log", *args, env=cluster_release.env).start()
    for name in names:
        apply(control_plane, _md(namespace, name))
    # Killed as soon as it has created some of the children, before it could finish.
    eventually(
        lambda: items(control_plane, f"/apis/apps/v1/namespaces/{namespace}/deployments"),
        60,
        interval=0.05,
        what="the first child",
    )
    crashed.kill()
    with operator(kubeconfig, tmp_path / "restarted.log", *args, env=cluster_release.env):
        for name in names:
            wait_ready(control_plane, namespace, name)
        deployments = items(control_plane, f"/apis/apps/v1/namespaces/{namespace}/deployments")
        owners = [d["metadata"]["labels"][MD_LABEL] for d in deployments]
        assert sorted(owners) == names, owners  # one pool Deployment each, none twice
        services = items(control_plane, f"/api/v1/namespaces/{namespace}/services")
        assert sorted(s["metadata"]["name"] for s in services) == names


def test_the_operator_rides_out_an_apiserver_restart_and_a_compacted_watch(
    control_plane: ControlPlane, cluster_release: Release, tmp_path: Path, namespace: str
) -> None:
    kubeconfig = _kubeconfig(control_plane, cluster_release, tmp_path)
    with operator(
        kubeconfig,
        tmp_path / "operator.log",
        *operator_argv(cluster_release, standalone=True),
        env=cluster_release.env,
        denials_expected=True,
    ) as process:
        apply(control_plane, _md(namespace, "before"))
        wait_ready(control_plane, namespace, "before")

        # Until the first restart the chart's RBAC allowed everything; after it, a warming apiserver may refuse.
        assert RBAC_DENIAL.findall(process.log()) == []
        control_plane.restart("kube-apiserver", down_seconds=3)
        apply(control_plane, _md(namespace, "after"))
        wait_ready(control_plane, namespace, "after")

        # History compacted away while the operator's watches hold older resourceVersions; a fresh apiserver
        # (empty watch cache) then answers their resumption with 410 Gone.
        for index in range(5):
            control_plane.api.request(
                "POST",
                f"/api/v1/namespaces/{namespace}/configmaps",
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"churn-{index}"}},
            )
        control_plane.compact_etcd()
        control_plane.restart("kube-apiserver", down_seconds=1)
        control_plane.api.request(
            "PATCH",
            md_path(namespace, "before"),
            {"spec": {"replicas": 2}},
            content_type="application/merge-patch+json",
        )
        eventually(
            lambda: (
                (d := get(control_plane, f"/apis/apps/v1/namespaces/{namespace}/deployments/before-cloud-l4"))
                and d["spec"]["replicas"] == 2
            ),
            90,
            what="a change after the compaction acted on",
        )
        md = wait_ready(control_plane, namespace, "before")
        assert md["status"]["readyReplicas"] == 2
        log = process.log()
        assert "resourceVersion expired; relisting" in log or "410" in log, log[-3000:]


@pytest.fixture(autouse=True)
def _components_alive(control_plane: ControlPlane) -> None:
    dead = [name for name, c in control_plane.components.items() if not c.running()]
    assert dead == [], f"control-plane components died: {dead}\n{control_plane.log_tails()}"
