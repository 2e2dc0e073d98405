"""RBAC proven: the real operator runs on the emulated cluster through the integration scenarios (create,
spec update, drift and deletion of children, invalid spec with Warning events, /scale, HPA, KEDA and the
switch between them, warm standby's sleep call through the pod proxy, ServiceMonitors, NetworkPolicy on
and off, a dropped pool, a create conflict, and ModelDeployment deletion), with the arguments the chart's
Deployment passes, in both chart modes: cluster-wide (ClusterRole) and namespaced (a Role per served
namespace). Every API request the operator made is recorded by the emulator and checked against the rules
`helm template` renders for the operator's ServiceAccount: a request the chart does not allow fails the
test. User actions go in-process (not over HTTP), so every recorded request is the operator's.

Also the inverse sanity checks: no wildcard anywhere, no Secrets, nodes and pods read-only (warm standby's
`create` on pods/proxy aside), the status and finalizers subresources granted, and a rule for every child
kind in kube/resources.py.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from genai_emulator import EmulatedCluster, RequestRecord
from genai_operator.api.resources import CHILD_RESOURCES, SCALED_OBJECTS
from genai_operator.cli.main import _parser
from genai_operator.controller.kopf_setup import operator_main
from genai_operator.controller.runtime import RunOptions
from genai_operator.kube.leader_election import LeaseConfig
from support.chart import (
    EXAMPLE_NAMESPACES,
    NAMESPACED_VALUES,
    RELEASE_NAMESPACE,
    Authorizer,
    Request,
    authorizer,
    helm_template,
    of_kind,
)
from support.operator_harness import DEPLOYMENTS, MD, OperatorHarness, condition, eventually, example, is_ready

pytestmark = [pytest.mark.integration, pytest.mark.tools]

SERVICES = "v1/services"
HPAS = "autoscaling/v2/horizontalpodautoscalers"
SCALED = "keda.sh/v1alpha1/scaledobjects"
MONITORS = "monitoring.coreos.com/v1/servicemonitors"
POLICIES = "networking.k8s.io/v1/networkpolicies"
STATEFULSETS = "apps/v1/statefulsets"
# Discovery needs no grant: the built-in system:discovery role allows it to every authenticated user.
DISCOVERY = re.compile(r"^/(version|api|apis)(/[^/]+(/[^/]+)?)?/?$")
WILDCARD = "*"


class ChartModeHarness(OperatorHarness):
    """The harness, with the namespaces and flags the chart's Deployment gives `genai-operator run`."""

    def __init__(
        self, run_args: Sequence[str], *, lease_name: str, with_keda: bool, with_prometheus_operator: bool
    ) -> None:
        # With the sample pools' caches: claims and StatefulSets are requests the chart must allow too.
        super().__init__(with_keda=with_keda, options={"resync_seconds": 1.0}, pool_caches=True)
        self.cluster = EmulatedCluster(with_keda=with_keda, with_prometheus_operator=with_prometheus_operator)
        self.args = _parser().parse_args(list(run_args))
        assert self.args.command == "run"
        self.lease_name = lease_name

    async def start(self) -> None:
        self.stop_flag = threading.Event()
        options = RunOptions(**{"kubeconfig": str(self.cluster.kubeconfig_path), "metrics_port": 0, **self.options})
        flag, args = self.stop_flag, self.args

        # The chart runs with the leader lease, in the release namespace (GENAI_OPERATOR_LEASE_NAMESPACE).
        election = (
            None
            if args.standalone
            else LeaseConfig(namespace=RELEASE_NAMESPACE, identity="rbac-test", name=self.lease_name)
        )

        def run() -> None:
            asyncio.run(
                operator_main(
                    options,
                    namespaces=args.namespace,
                    clusterwide=args.all_namespaces or not args.namespace,
                    election=election,
                    stop_flag=flag,
                )
            )

        self.thread = threading.Thread(target=run, name="operator", daemon=True)
        self.thread.start()
        await asyncio.sleep(0.3)


def operator_container(objects: Sequence[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = of_kind(objects, "Deployment")
    container: dict[str, Any] = deployment["spec"]["template"]["spec"]["containers"][0]
    return container


def operator_args(objects: Sequence[dict[str, Any]]) -> list[str]:
    return [str(a) for a in operator_container(objects)["args"]]


def lease_name(objects: Sequence[dict[str, Any]]) -> str:
    env = {e["name"]: e.get("value") for e in operator_container(objects)["env"]}
    return str(env["GENAI_OPERATOR_LEASE_NAME"])


# -- user actions, in-process (never recorded as API requests) -----------------------------------------
def create(h: OperatorHarness, manifest: dict[str, Any]) -> None:
    h.cluster.apply(manifest)


def update_spec(h: OperatorHarness, namespace: str, name: str, **changes: Any) -> None:
    md = h.md(namespace, name)
    md["spec"].update(changes)
    h.cluster.apply(md)


async def ready(h: OperatorHarness, namespace: str, name: str, timeout: float = 20) -> dict[str, Any]:
    result: dict[str, Any] = await eventually(
        lambda: (o := h.md(namespace, name)) and is_ready(o) and o, timeout=timeout
    )
    return result


async def scenarios(h: OperatorHarness, *, keda: bool, monitors: bool) -> None:
    """The integration scenarios of tests/emulated/test_operator.py, driven in-process."""
    # create, and a create conflict (409 on the Service: the operator reads it back, then retries)
    h.cluster.fail_next(1, 409, method="POST", resource="services")
    create(h, example("llama-8b-bf16-l4.yaml"))
    create(h, example("qwen-1.5b-gguf-edge-cpu.yaml"))
    await ready(h, "ml", "llama-8b")
    await ready(h, "stores", "qwen-edge")
    if monitors:
        await eventually(lambda: h.cluster.get(MONITORS, "ml", "llama-8b"))
    # spec update -> children patched
    update_spec(h, "ml", "llama-8b", replicas=3, serving={"maxContextLength": 4096})
    await eventually(lambda: h.cluster.get(DEPLOYMENTS, "ml", "llama-8b-cloud-l4")["spec"]["replicas"] == 3)
    # drift and a deleted child -> restored
    dep = h.cluster.get(DEPLOYMENTS, "ml", "llama-8b-cloud-l4")
    dep["spec"]["template"]["spec"]["containers"][0]["image"] = "evil/image:1"
    h.cluster.apply(dep)
    h.cluster.delete(SERVICES, "ml", "llama-8b")
    await eventually(
        lambda: (
            h.cluster.get(SERVICES, "ml", "llama-8b")
            and h.cluster.get(DEPLOYMENTS, "ml", "llama-8b-cloud-l4")["spec"]["template"]["spec"]["containers"][0][
                "image"
            ]
            != "evil/image:1"
        )
    )
    # NetworkPolicy on, then off (deleted by the operator)
    update_spec(h, "ml", "llama-8b", networkPolicy={"enabled": True, "allowedClients": [{"podSelector": {"a": "b"}}]})
    await eventually(lambda: h.cluster.get(POLICIES, "ml", "llama-8b"))
    update_spec(h, "ml", "llama-8b", networkPolicy={"enabled": False})
    await eventually(lambda: h.cluster.get(POLICIES, "ml", "llama-8b") is None)
    # invalid spec -> SpecValid=False and a Warning event
    bad = example("mistral-7b-tgi.yaml")
    bad["spec"]["model"] = {"uri": "hf://acme/unknown-model"}
    create(h, bad)
    await eventually(lambda: condition(h.md("ml", "mistral-tgi"), "SpecValid").get("status") == "False")
    await eventually(lambda: any(e.get("reason") == "InvalidSpec" for e in h.cluster.list("v1/events", "ml")))
    # autoscaling with an HPA; the autoscaler's /scale write re-splits the pools
    hybrid = example("llama-3b-autoscaled-hybrid.yaml")
    hybrid["spec"]["scaling"]["backend"] = "HPA"
    create(h, hybrid)
    await eventually(lambda: h.cluster.get(HPAS, "ml", "assistant"))
    await ready(h, "ml", "assistant")
    update_spec(h, "ml", "assistant", replicas=5)  # what the HPA does through /scale
    await eventually(
        lambda: (
            sum(
                d["spec"]["replicas"]
                for d in [*h.cluster.list(DEPLOYMENTS, "ml"), *h.cluster.list(STATEFULSETS, "ml")]
                if d["metadata"]["name"].startswith("assistant-")
            )
            == 5
        )
    )
    if keda:  # the backend switch: the HPA is deleted, a ScaledObject created
        scaling = {**h.md("ml", "assistant")["spec"]["scaling"], "backend": "KEDA"}
        update_spec(h, "ml", "assistant", scaling=scaling)
        await eventually(
            lambda: h.cluster.get(SCALED, "ml", "assistant") and not h.cluster.get(HPAS, "ml", "assistant")
        )
    # a dropped pool: its Deployment is deleted by the operator
    update_spec(h, "ml", "assistant", placement={"pools": ["edge-orin"], "spillover": False})
    await eventually(lambda: h.cluster.get(DEPLOYMENTS, "ml", "assistant-cloud-l4") is None)
    if keda:  # warm standby: KEDA's Active condition idle, the engine put to sleep through the pod proxy
        standby = example("qwen-7b-warm-standby.yaml")
        standby["spec"]["scaling"]["warmStandby"]["idleSeconds"] = 0
        create(h, standby)
        await ready(h, "ml", "qwen-7b-standby")
        h.cluster.emulator.set_scaled_object_active("ml", "qwen-7b-standby", False)
        await eventually(lambda: h.cluster.emulator.sleeping_pods("ml"))
    # deletion: garbage collection removes the children
    h.cluster.delete(MD, "ml", "llama-8b")
    await eventually(lambda: h.cluster.get(DEPLOYMENTS, "ml", "llama-8b-cloud-l4") is None)
    await asyncio.sleep(1.2)  # one resync over what is left


def as_request(record: RequestRecord) -> Request:
    assert record.resource is not None
    return Request(record.verb, record.group or "", record.resource, record.subresource, record.namespace, record.name)


def denied(records: Sequence[RequestRecord], rbac: Authorizer) -> list[str]:
    problems = []
    for record in records:
        if record.resource is None:
            if not DISCOVERY.match(record.path):
                problems.append(f"{record.method} {record.path}: not a discovery path, needs a nonResourceURL grant")
            continue
        request = as_request(record)
        if not rbac.allows(request):
            problems.append(f"{request}  ({record.method} {record.path})")
    return sorted(set(problems))


MODES = {
    # cluster-wide, KEDA and the Prometheus Operator installed
    "cluster-wide": ((), True, True),
    # a Role per namespace; no KEDA in the cluster, so the chart grants none (keda.enabled=false)
    "namespaced": ((*NAMESPACED_VALUES, "--set", "keda.enabled=false"), False, False),
}


@pytest.mark.parametrize("mode", list(MODES))
async def test_every_request_of_the_operator_is_allowed_by_the_chart(mode: str) -> None:
    values, keda, monitors = MODES[mode]
    rbac = authorizer(*values)
    objects = helm_template(*values)
    args = operator_args(objects)
    async with ChartModeHarness(
        args, lease_name=lease_name(objects), with_keda=keda, with_prometheus_operator=monitors
    ) as h:
        h.clear_requests()
        await h.stop()
        await h.start()  # recorded from the very first request of a fresh operator
        await scenarios(h, keda=keda, monitors=monitors)
        await h.stop()
        records = h.cluster.emulator.recorded_requests()
    assert len(records) > 50
    # The chart runs the operator with the leader lease: taken, renewed and released under these rules too.
    lease_verbs = {r.verb for r in records if r.resource == "leases"}
    assert {"get", "update"} <= lease_verbs, lease_verbs
    seen = {(r.verb, r.resource, r.subresource) for r in records if r.resource}
    # The scenarios did exercise every verb the rules grant on children, and status writes.
    for needed in [
        ("create", "deployments", None),
        ("update", "deployments", None),
        ("delete", "deployments", None),
        ("create", "networkpolicies", None),
        ("delete", "networkpolicies", None),
        ("create", "horizontalpodautoscalers", None),
        ("get", "services", None),
        ("patch", "modeldeployments", "status"),
        ("create", "events", None),
        ("watch", "nodes", None),
        ("watch", "pods", None),
        ("watch", "placementpools", None),
    ]:
        assert needed in seen, f"the scenarios never made {needed}"
    if keda:
        assert ("create", "scaledobjects", None) in seen and ("delete", "horizontalpodautoscalers", None) in seen
        assert ("create", "pods", "proxy") in seen  # warm standby's POST /sleep
    if monitors:
        assert ("create", "servicemonitors", None) in seen
    if mode == "namespaced":
        namespaced = [r for r in records if r.resource in ("modeldeployments", "deployments", "pods", "events")]
        assert {r.namespace for r in namespaced} <= set(EXAMPLE_NAMESPACES)
    problems = denied(records, rbac)
    assert not problems, "requests the chart's RBAC does not allow:\n" + "\n".join(problems)
    if mode == "cluster-wide":  # negative control: the namespaced chart cannot serve a cluster-wide operator
        assert any("cluster-wide" in p for p in denied(records, authorizer(*NAMESPACED_VALUES)))


def test_the_authorizer_denies_what_the_chart_does_not_grant() -> None:
    """The check above is only as good as the authorizer: it must say no."""
    cluster = authorizer()
    namespaced = authorizer(*NAMESPACED_VALUES)
    assert cluster.allows(Request("create", "apps", "deployments", None, "anywhere"))
    assert not cluster.allows(Request("create", "", "secrets", None, "ml"))
    assert not cluster.allows(Request("get", "", "secrets", None, "ml"))
    assert not cluster.allows(Request("patch", "", "nodes", None, None))
    assert not cluster.allows(Request("patch", "genaiops.dev", "modeldeployments", None, "ml"))
    assert cluster.allows(Request("patch", "genaiops.dev", "modeldeployments", "status", "ml"))
    assert namespaced.allows(Request("create", "apps", "deployments", None, "ml"))
    assert not namespaced.allows(Request("create", "apps", "deployments", None, "kube-system"))
    assert not namespaced.allows(Request("list", "apps", "deployments", None, None))  # cluster-wide list
    assert namespaced.allows(Request("watch", "", "nodes", None, None))
    assert not authorizer("--set", "keda.enabled=false").allows(
        Request("create", "keda.sh", "scaledobjects", None, "ml")
    )


# -- the inverse: what the rules must never contain, and what they must ------------------------------
RENDERS = {"cluster-wide": (), "namespaced": NAMESPACED_VALUES}


def _roles(values: Sequence[str]) -> list[dict[str, Any]]:
    return [o for o in helm_template(*values) if o["kind"] in ("Role", "ClusterRole")]


@pytest.mark.parametrize("mode", list(RENDERS))
def test_rules_have_no_wildcards_and_no_secrets(mode: str) -> None:
    for role in _roles(RENDERS[mode]):
        for rule in role.get("rules") or []:
            where = f"{role['kind']} {role['metadata']['name']}: {rule}"
            for key in ("apiGroups", "resources", "verbs"):
                assert WILDCARD not in rule.get(key, []) and not any("*" in v for v in rule.get(key, [])), where
            assert "nonResourceURLs" not in rule, where
            assert not {"secrets", "secrets/status"} & set(rule.get("resources", [])), where
            assert not {"escalate", "bind", "impersonate"} & set(rule["verbs"]), where


@pytest.mark.parametrize("mode", list(RENDERS))
def test_rules_grant_what_the_operator_needs_and_reads_stay_reads(mode: str) -> None:
    rbac = authorizer(*RENDERS[mode])
    ns = EXAMPLE_NAMESPACES[0]
    for verb in ("get", "list", "watch"):
        assert rbac.allows(Request(verb, "", "nodes", None, None))
        assert rbac.allows(Request(verb, "", "pods", None, ns))
        assert rbac.allows(Request(verb, "genaiops.dev", "placementpools", None, None))
    for verb in ("create", "update", "patch", "delete"):
        assert not rbac.allows(Request(verb, "", "nodes", None, None))
        assert not rbac.allows(Request(verb, "", "pods", None, ns))
        assert not rbac.allows(Request(verb, "genaiops.dev", "placementpools", None, None))
    assert rbac.allows(Request("patch", "genaiops.dev", "modeldeployments", "status", ns))
    assert rbac.allows(Request("patch", "genaiops.dev", "placementpools", "status", None))
    assert rbac.allows(Request("update", "genaiops.dev", "modeldeployments", "finalizers", ns))
    # Warm standby POSTs to vLLM through the pod proxy: create on pods/proxy, and no other pod subresource.
    assert rbac.allows(Request("create", "", "pods", "proxy", ns))
    for verb in ("get", "update", "patch", "delete"):
        assert not rbac.allows(Request(verb, "", "pods", "proxy", ns))
    for sub in ("exec", "attach", "portforward", "log", "eviction"):
        assert not rbac.allows(Request("create", "", "pods", sub, ns))
    for res in CHILD_RESOURCES:  # every kind the operator may create, restore and remove
        for verb in ("get", "list", "watch", "create", "update", "patch", "delete"):
            assert rbac.allows(Request(verb, res.group, res.plural, None, ns)), (verb, res.plural)
    without_keda = authorizer(*RENDERS[mode], "--set", "keda.enabled=false")
    assert not without_keda.allows(Request("list", SCALED_OBJECTS.group, SCALED_OBJECTS.plural, None, ns))


def test_operator_pod_runs_as_the_bound_service_account() -> None:
    objects = helm_template()
    (deployment,) = of_kind(objects, "Deployment")
    (account,) = of_kind(objects, "ServiceAccount")
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == account["metadata"]["name"]
    (binding,) = [b for b in of_kind(objects, "ClusterRoleBinding")]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": account["metadata"]["namespace"]}
    ]
