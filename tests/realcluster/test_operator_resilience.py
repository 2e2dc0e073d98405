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
    OperatorProcess,
    apply,
    create_namespace,
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


def _delete_namespace(plane: ControlPlane, namespace: str) -> None:
    # Frees the GPUs this module's models took for the modules after it.
    plane.api.request("DELETE", f"/api/v1/namespaces/{namespace}")


def test_two_operators_share_the_lease_and_the_stand_by_takes_over(
    control_plane: ControlPlane, cluster_release: Release, tmp_path: Path
) -> None:
    create_namespace(control_plane, "lease")
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
            apply(control_plane, _md("lease", "one"))
            wait_ready(control_plane, "lease", "one")
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
            apply(control_plane, _md("lease", "two"))
            wait_ready(control_plane, "lease", "two")
            assert "two" not in first.log()  # it was dead before `two` existed
            assert second.process is not None
    finally:
        if first.process is not None:
            first.stop()
        _delete_namespace(control_plane, "lease")


def test_an_operator_killed_mid_create_converges_without_duplicates_when_restarted(
    control_plane: ControlPlane, cluster_release: Release, tmp_path: Path
) -> None:
    create_namespace(control_plane, "crash")
    kubeconfig = _kubeconfig(control_plane, cluster_release, tmp_path)
    args = [*operator_argv(cluster_release, standalone=True)]
    names = [f"m{i}" for i in range(4)]
    crashed = OperatorProcess(kubeconfig, tmp_path / "crashed.log", *args, env=cluster_release.env).start()
    for name in names:
        apply(control_plane, _md("crash", name))
    # Killed as soon as it has created some of the children, before it could finish.
    eventually(
        lambda: items(control_plane, "/apis/apps/v1/namespaces/crash/deployments"),
        60,
        interval=0.05,
        what="the first child",
    )
    crashed.kill()
    try:
        with operator(kubeconfig, tmp_path / "restarted.log", *args, env=cluster_release.env):
            for name in names:
                wait_ready(control_plane, "crash", name)
            deployments = items(control_plane, "/apis/apps/v1/namespaces/crash/deployments")
            owners = [d["metadata"]["labels"][MD_LABEL] for d in deployments]
            assert sorted(owners) == names, owners  # one pool Deployment each, none twice
            services = items(control_plane, "/api/v1/namespaces/crash/services")
            assert sorted(s["metadata"]["name"] for s in services) == names
    finally:
        _delete_namespace(control_plane, "crash")


def test_the_operator_rides_out_an_apiserver_restart_and_a_compacted_watch(
    control_plane: ControlPlane, cluster_release: Release, tmp_path: Path
) -> None:
    create_namespace(control_plane, "restart")
    kubeconfig = _kubeconfig(control_plane, cluster_release, tmp_path)
    with operator(
        kubeconfig, tmp_path / "operator.log", *operator_argv(cluster_release, standalone=True), env=cluster_release.env
    ) as process:
        apply(control_plane, _md("restart", "before"))
        wait_ready(control_plane, "restart", "before")

        control_plane.restart("kube-apiserver", down_seconds=3)
        apply(control_plane, _md("restart", "after"))
        wait_ready(control_plane, "restart", "after")

        # History compacted away while the operator's watches hold older resourceVersions; a fresh apiserver
        # (empty watch cache) then answers their resumption with 410 Gone.
        for index in range(5):
            control_plane.api.request(
                "POST",
                "/api/v1/namespaces/restart/configmaps",
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"churn-{index}"}},
            )
        control_plane.compact_etcd()
        control_plane.restart("kube-apiserver", down_seconds=1)
        control_plane.api.request(
            "PATCH",
            md_path("restart", "before"),
            {"spec": {"replicas": 2}},
            content_type="application/merge-patch+json",
        )
        eventually(
            lambda: (
                (d := get(control_plane, "/apis/apps/v1/namespaces/restart/deployments/before-cloud-l4"))
                and d["spec"]["replicas"] == 2
            ),
            90,
            what="a change after the compaction acted on",
        )
        md = wait_ready(control_plane, "restart", "before")
        assert md["status"]["readyReplicas"] == 2
        log = process.log()
        assert "resourceVersion expired; relisting" in log or "410" in log, log[-3000:]
    _delete_namespace(control_plane, "restart")


@pytest.fixture(autouse=True)
def _components_alive(control_plane: ControlPlane) -> None:
    dead = [name for name, c in control_plane.components.items() if not c.running()]
    assert dead == [], f"control-plane components died: {dead}\n{control_plane.log_tails()}"
