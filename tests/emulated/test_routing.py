"""spec.routing on the emulated cluster: with the InferencePool and HTTPRoute CRDs installed the real
operator creates the InferencePool, the endpoint picker (identity, grants, Deployment, Service) and the
HTTPRoute, reports RoutingReady and the routed endpoint, and wakes KEDA from the picker's queue; without
the InferencePool CRD it says what to install, renders no routing object and keeps the Service endpoint;
a standalone ModelDeployment gets the proxy's Service as its endpoint, and its edge pool a site unit
(InferencePool over the pool's pods, site picker on the pool's nodes) listed in status.siteEndpoints.
"""

from __future__ import annotations

import pytest

from support.operator_harness import OperatorHarness, condition, eventually, example, is_ready
from support.paths import UPSTREAM_CRDS

pytestmark = pytest.mark.integration
POOLS = "inference.networking.k8s.io/v1/inferencepools"
ROUTES = "gateway.networking.k8s.io/v1/httproutes"
DEPLOYMENTS = "apps/v1/deployments"
SERVICES = "v1/services"
ROLES = "rbac.authorization.k8s.io/v1/roles"
ROLE_BINDINGS = "rbac.authorization.k8s.io/v1/rolebindings"
SERVICE_ACCOUNTS = "v1/serviceaccounts"
SCALED_OBJECTS = "keda.sh/v1alpha1/scaledobjects"
ROUTING_CRDS = [
    UPSTREAM_CRDS / "inference.networking.k8s.io_inferencepools.yaml",
    UPSTREAM_CRDS / "gateway.networking.k8s.io_httproutes.yaml",
]


async def test_gateway_routing_renders_pool_picker_and_route_and_wakes_keda_from_the_picker_queue() -> None:
    async with OperatorHarness(with_keda=True) as harness:
        harness.cluster.install_crds(ROUTING_CRDS)
        await harness.stop()
        await harness.start()  # discovery runs at start: the CRDs are found
        await harness.create(example("qwen-7b-routed-gateway.yaml"))
        md = await eventually(lambda: (o := harness.md("ml", "qwen-7b-routed")) and condition(o, "RoutingReady") and o)
        ready = condition(md, "RoutingReady")
        assert (ready["status"], ready["reason"]) == ("True", "GatewayRouted"), ready
        assert md["status"]["endpoint"] == "gateway://gateway-system/inference-gateway/v1"
        pool = harness.cluster.get(POOLS, "ml", "qwen-7b-routed")
        assert pool["spec"]["selector"]["matchLabels"] == {"genaiops.dev/model-deployment": "qwen-7b-routed"}
        assert pool["spec"]["endpointPickerRef"]["name"] == "qwen-7b-routed-epp"
        route = harness.cluster.get(ROUTES, "ml", "qwen-7b-routed")
        assert route["spec"]["rules"][0]["backendRefs"][0]["kind"] == "InferencePool"
        for resource in (DEPLOYMENTS, SERVICES, ROLES, ROLE_BINDINGS, SERVICE_ACCOUNTS):
            assert harness.cluster.get(resource, "ml", "qwen-7b-routed-epp") is not None, resource
        picker = harness.cluster.get(DEPLOYMENTS, "ml", "qwen-7b-routed-epp")
        labels = picker["spec"]["template"]["metadata"]["labels"]
        assert "genaiops.dev/model-deployment" not in labels  # the picker is never one of its own endpoints
        so = harness.cluster.get(SCALED_OBJECTS, "ml", "qwen-7b-routed")
        wake = [t for t in so["spec"]["triggers"] if t["name"] == "wake-up"]
        assert so["spec"]["minReplicaCount"] == 0
        assert "inference_extension_flow_control_queue_size" in wake[0]["metadata"]["query"]
        assert condition(md, "AutoscalerReady")["status"] == "True"

        # A deleted routing child comes back (drift), like any other child.
        harness.cluster.delete(POOLS, "ml", "qwen-7b-routed")
        await eventually(lambda: harness.cluster.get(POOLS, "ml", "qwen-7b-routed") is not None)


async def test_without_the_inference_pool_crd_routing_reports_what_to_install() -> None:
    async with OperatorHarness() as harness:
        await harness.create(example("qwen-1.5b-edge-routed.yaml"))
        md = await eventually(lambda: (o := harness.md("stores", "qwen-edge-routed")) and is_ready(o) and o)
        ready = condition(md, "RoutingReady")
        assert (ready["status"], ready["reason"]) == ("False", "InferencePoolCrdMissing"), ready
        assert "kubectl apply -f" in ready["message"] and "InferencePool" in ready["message"]
        assert md["status"]["endpoint"].startswith("http://qwen-edge-routed.stores.")
        assert harness.cluster.get(DEPLOYMENTS, "stores", "qwen-edge-routed-epp") is None


async def test_standalone_routing_serves_through_the_proxy_service() -> None:
    async with OperatorHarness() as harness:
        harness.cluster.install_crds(ROUTING_CRDS[:1])
        await harness.stop()
        await harness.start()
        await harness.create(example("qwen-1.5b-edge-routed.yaml"))
        md = await eventually(
            lambda: (
                (o := harness.md("stores", "qwen-edge-routed")) and condition(o, "RoutingReady") and is_ready(o) and o
            )
        )
        assert condition(md, "RoutingReady")["reason"] == "StandaloneProxy"
        assert md["status"]["endpoint"] == "http://qwen-edge-routed-epp.stores.svc:8081/v1"
        picker = harness.cluster.get(DEPLOYMENTS, "stores", "qwen-edge-routed-epp")
        assert [c["name"] for c in picker["spec"]["template"]["spec"]["containers"]] == ["envoy", "epp"]
        assert harness.cluster.get(POOLS, "stores", "qwen-edge-routed") is not None
        site = "qwen-edge-routed-store-cpu"
        assert md["status"]["siteEndpoints"] == [
            {"pool": "store-cpu", "endpoint": f"http://{site}-epp.stores.svc:8081/v1"}
        ]
        site_pool = harness.cluster.get(POOLS, "stores", site)
        assert site_pool["spec"]["selector"]["matchLabels"]["genaiops.dev/pool"] == "store-cpu"
        site_picker = harness.cluster.get(DEPLOYMENTS, "stores", f"{site}-epp")
        assert site_picker["spec"]["template"]["spec"]["nodeSelector"] == {"apps.openyurt.io/nodepool": "store-42"}
        assert harness.cluster.get(SERVICES, "stores", f"{site}-epp") is not None
