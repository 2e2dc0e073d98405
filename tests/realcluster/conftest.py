"""The real control plane under this tier: one etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
kwok for the whole session (genai_sandbox), with the sample inventory's nodes and our CRDs applied server-side.

The tier never skips silently: without Go it fails in CI (CI=true), and elsewhere it skips with the reason in
the summary. GENAI_REALCLUSTER=0 leaves it out on purpose. A failed test gets the tails of the component logs
in its report; the full logs stay in the session's temporary directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from chart_install import Release, helm_install
from cluster_storage import SharedVolumeProvisioner, add_cache_volumes
from cluster_support import INVENTORY, ROOT, create_namespace, eventually, get
from genai_sandbox import ControlPlane, ControlPlaneOptions, SandboxError
from genai_sandbox.binaries import locate
from genai_sandbox.nodes import read_inventory

CRDS = ("modeldeployments.genaiops.dev", "placementpools.genaiops.dev")
# KEDA's own CRDs (its controller does not run): ScaledObjects the operator creates meet KEDA's real schema.
KEDA_CRDS = ("scaledobjects.keda.sh", "triggerauthentications.keda.sh")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.realcluster)


def _unavailable() -> str | None:
    if os.environ.get("GENAI_REALCLUSTER") == "0":
        return "GENAI_REALCLUSTER=0: the real-control-plane tier was left out on purpose"
    if shutil.which("go") is None and not os.environ.get("GENAI_CONTROL_PLANE_BIN"):
        reason = "Go is not installed: the real control plane is built from Go modules (need Go 1.26+)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run this tier", pytrace=False)
        return reason
    return None


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    reason = _unavailable()
    if reason:
        pytest.skip(reason)
    try:
        binaries = locate()
    except SandboxError as exc:
        pytest.fail(str(exc), pytrace=False)
    plane = ControlPlane(ControlPlaneOptions(workdir=tmp_path_factory.mktemp("control-plane"), binaries=binaries))
    try:
        plane.start()
    except SandboxError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        plane.wait_nodes_ready(plane.add_nodes(read_inventory(INVENTORY / "nodes.yaml")))
        upstream = ROOT / "tests" / "upstream_crds"
        control_plane_apply(
            plane,
            ROOT / "crds",
            upstream / "keda.sh_scaledobjects.yaml",
            upstream / "keda.sh_triggerauthentications.yaml",
        )
        for crd in CRDS + KEDA_CRDS:
            eventually(
                lambda crd=crd: any(
                    c["type"] == "Established" and c["status"] == "True"
                    for c in (get(plane, f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd}") or {})
                    .get("status", {})
                    .get("conditions", [])
                ),
                30,
                what=f"CRD {crd} established",
            )
        control_plane_apply(plane, INVENTORY / "pools.yaml")
        add_cache_volumes(plane)
        with SharedVolumeProvisioner(plane):
            yield plane
    finally:
        plane.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    plane = getattr(item, "funcargs", {}).get("control_plane")
    if report.failed and isinstance(plane, ControlPlane):
        report.sections.append(
            (f"control-plane logs (tails; full logs in {plane.workdir / 'logs'})", plane.log_tails())
        )


def control_plane_apply(plane: ControlPlane, *paths: Path) -> None:
    args = [a for path in paths for a in ("-f", str(path))]
    result = plane.kubectl("apply", "--server-side", "--field-manager=genai-tests", *args)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="session")
def cluster_release(control_plane: ControlPlane) -> Release:
    """The chart in its default, all-namespaces mode, installed with the real helm."""
    return helm_install(control_plane, "genai", "genai-system")


@pytest.fixture
def namespace(control_plane: ControlPlane, request: pytest.FixtureRequest) -> Iterator[str]:
    """A namespace of the test's own, deleted afterwards and waited for: its pods give their GPUs back before
    the next test places models."""
    name = request.node.originalname.removeprefix("test_").replace("_", "-")[:40].strip("-")
    create_namespace(control_plane, name)
    yield name
    control_plane.api.request("DELETE", f"/api/v1/namespaces/{name}")
    eventually(lambda: get(control_plane, f"/api/v1/namespaces/{name}") is None, 120, what=f"namespace {name} deleted")
