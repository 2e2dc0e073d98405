"""Render builders: DESIGN labels on every child, owner references with and without a uid, stable names
within 63 characters, GPU node affinity and tolerations, edge tolerations and Service traffic
distribution, restricted security contexts, 0-replica pools, the PDB threshold, and the shapes of HPAs
and KEDA ScaledObjects. Every rendered object is validated strictly against the Kubernetes schemas (and
KEDA's CRD)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
import yaml

from genai_operator.api.enums import Engine, ScalingBackend, Tier
from genai_operator.render.autoscaler import build_autoscaler
from genai_operator.render.labels import MODEL_DEPLOYMENT, POOL
from genai_operator.render.names import deployment_name, fit_name, service_name
from genai_operator.render.pod_template import container_security
from genai_operator.render.signals import MetricUnavailableError
from genai_operator.settings import Settings
from support.render_fixtures import (
    A100,
    GB,
    H100,
    K8S_VERSIONS,
    L4,
    MI300,
    ORIN,
    assign,
    by_kind,
    decision,
    manifest,
    only,
    plan_for,
    pool,
    render_valid,
    sizing,
)

UID = "6f1d2c1e-1111-4a4a-9c9c-0123456789ab"
GGUF = {"model": {"uri": "hf://bartowski/Llama-3.2-3B-Instruct-GGUF"}, "quantization": {"method": "GGUF"}}
SCALING = {"minReplicas": 1, "maxReplicas": 6, "metric": "QueueDepth", "target": "4"}


def hybrid() -> tuple[Any, Any]:
    """llama.cpp on a CPU edge pool and vLLM on a cloud L4 pool."""
    md = manifest("assistant", scaling=SCALING, replicas=3)
    edge = assign(pool("store-cpu", Tier.EDGE, cpu_only=True), 2, Engine.LLAMA_CPP, sizing(None, weights=2 * GB))
    cloud = assign(pool("cloud-l4", gpu=L4), 1, Engine.VLLM)
    return md, decision(edge, cloud)


def test_k8s_validation_versions_cover_the_supported_range() -> None:
    assert K8S_VERSIONS[0] == "1.33" and len(K8S_VERSIONS) == 2


@pytest.mark.parametrize("backend", [None, ScalingBackend.HPA, ScalingBackend.KEDA])
def test_every_child_carries_the_design_labels(backend: ScalingBackend | None) -> None:
    md, placed = hybrid()
    objects = render_valid(md, placed, autoscaler=backend)
    assert [o["kind"] for o in objects][:4] == ["Deployment", "Deployment", "Service", "PodDisruptionBudget"]
    for obj in objects:
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/instance"] == "assistant"
        assert labels["app.kubernetes.io/managed-by"] == "genai-operator"
        assert labels["app.kubernetes.io/component"] == "inference"
        assert labels[MODEL_DEPLOYMENT] == "assistant"
        assert labels["app.kubernetes.io/name"] in ("vllm", "llama-cpp")
        assert obj["metadata"]["namespace"] == "ml"
    edge, cloud = by_kind(objects, "Deployment")
    assert edge["metadata"]["labels"][POOL] == "store-cpu" and cloud["metadata"]["labels"][POOL] == "cloud-l4"
    assert edge["metadata"]["labels"]["app.kubernetes.io/name"] == "llama-cpp"
    assert cloud["metadata"]["labels"]["app.kubernetes.io/name"] == "vllm"
    for deployment in (edge, cloud):
        template = deployment["spec"]["template"]["metadata"]["labels"]
        assert template == deployment["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"] == {
            MODEL_DEPLOYMENT: "assistant",
            POOL: deployment["metadata"]["labels"][POOL],
        }
    for shared in objects[2:]:
        assert POOL not in shared["metadata"]["labels"]


def test_owner_references_only_with_a_uid() -> None:
    md, placed = hybrid()
    owned = render_valid(md, placed, owner_uid=UID, autoscaler=ScalingBackend.KEDA)
    for obj in owned:
        assert obj["metadata"]["ownerReferences"] == [
            {
                "apiVersion": "genaiops.dev/v1alpha1",
                "kind": "ModelDeployment",
                "name": "assistant",
                "uid": UID,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    offline = render_valid(md, placed, owner_uid=None, autoscaler=ScalingBackend.HPA)
    assert all("ownerReferences" not in o["metadata"] for o in offline)


def test_names_are_stable_and_short() -> None:
    long_md, long_pool = "m" * 60, "pool-" + "p" * 55
    name = deployment_name(long_md, long_pool)
    assert len(name) <= 63 and name == deployment_name(long_md, long_pool)
    assert name != deployment_name(long_md, long_pool + "x")
    assert name[-9] == "-" and name[0].isalnum() and name[-1].isalnum()
    assert deployment_name("llama", "cloud-l4") == "llama-cloud-l4"
    assert fit_name("a" * 54 + "-", "b" * 20)[-9:-8] == "-"  # no double dash at the cut
    assert service_name("llama") == "llama" and service_name("7b-chat") == "md-7b-chat"
    md = manifest("x" * 63)
    objects = render_valid(md, decision(assign(pool("y" * 63))))
    assert all(len(o["metadata"]["name"]) <= 63 for o in objects)


def test_rendering_is_deterministic() -> None:
    md, placed = hybrid()
    first = render_valid(md, placed, owner_uid=UID, autoscaler=ScalingBackend.KEDA)
    second = render_valid(md, placed, owner_uid=UID, autoscaler=ScalingBackend.KEDA)
    assert yaml.safe_dump_all(first, sort_keys=False) == yaml.safe_dump_all(second, sort_keys=False)


def test_default_namespace() -> None:
    objects = render_valid(manifest(namespace=None), decision(assign(pool())))
    assert {o["metadata"]["namespace"] for o in objects} == {"default"}


def pod(deployment: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def test_gpu_pool_affinity_and_tolerations() -> None:
    unpinned = pool("any-gpu", gpu=None)  # GPU type unknown to the pool: sizing chose A100
    pinned = pool(
        "h100",
        gpu=H100,
        selector={"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"},
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    )
    objects = render_valid(
        manifest(), decision(assign(unpinned, 1, decided=sizing(A100)), assign(pinned, 1, decided=sizing(H100)))
    )
    first, second = (pod(d) for d in by_kind(objects, "Deployment"))
    terms = first["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert terms["nodeSelectorTerms"] == [
        {"matchExpressions": [{"key": "nvidia.com/gpu.product", "operator": "In", "values": list(A100.products)}]}
    ]
    assert "affinity" not in second  # the selector already pins the product
    gpu_toleration = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    assert first["tolerations"] == [gpu_toleration]
    assert second["tolerations"] == [gpu_toleration]  # not duplicated
    assert second["nodeSelector"] == {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}
    assert first["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"


def test_amd_gpu_uses_its_resource_and_product_label() -> None:
    objects = render_valid(
        manifest(), decision(assign(pool("mi", gpu=MI300, resource="amd.com/gpu"), decided=sizing(MI300)))
    )
    spec = pod(only(objects, "Deployment"))
    expression = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ][0]["matchExpressions"][0]
    assert expression["key"] == "amd.com/gpu.product-name"
    assert spec["tolerations"] == [{"key": "amd.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]


def test_cpu_pool_has_no_gpu_scheduling() -> None:
    md = manifest(**GGUF, engine="LlamaCpp")
    cpu = assign(pool("cpu", cpu_only=True), 1, Engine.LLAMA_CPP, sizing(None))
    objects = render_valid(md, decision(cpu))
    spec = pod(only(objects, "Deployment"))
    assert "affinity" not in spec and "tolerations" not in spec
    assert not any("gpu" in k for k in spec["containers"][0]["resources"]["limits"])


def test_edge_pool_tolerates_flaky_links_and_prefers_local_endpoints() -> None:
    orin = pool(
        "edge-orin",
        Tier.EDGE,
        gpu=ORIN,
        arch="arm64",
        selector={"node-role.kubernetes.io/edge": "", "nvidia.com/gpu.product": "Orin"},
        tolerations=[{"key": "node-role.kubernetes.io/edge", "operator": "Exists", "effect": "NoSchedule"}],
    )
    md = manifest(**GGUF)
    objects = render_valid(md, decision(assign(orin, 2, Engine.LLAMA_CPP, sizing(ORIN))))
    spec = pod(only(objects, "Deployment"))
    for taint in ("node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready"):
        assert {"key": taint, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 3600} in spec[
            "tolerations"
        ]
    assert spec["nodeSelector"]["kubernetes.io/arch"] == "arm64"
    assert spec["containers"][0]["imagePullPolicy"] == "IfNotPresent"
    assert only(objects, "Service")["spec"]["trafficDistribution"] == "PreferClose"
    cloud_only = render_valid(manifest(), decision(assign(pool())))
    assert "trafficDistribution" not in only(cloud_only, "Service")["spec"]


def test_tgi_without_a_pool_arch_is_pinned_to_amd64() -> None:
    objects = render_valid(manifest(engine="TGI"), decision(assign(pool(), 1, Engine.TGI)))
    assert pod(only(objects, "Deployment"))["nodeSelector"] == {"kubernetes.io/arch": "amd64"}


def test_restricted_security_context() -> None:
    objects = render_valid(manifest(), decision(assign(pool())))
    spec = pod(only(objects, "Deployment"))
    security = spec["securityContext"]
    assert security["runAsNonRoot"] is True and isinstance(security["runAsUser"], int)
    assert security["runAsUser"] > 0 and security["fsGroup"] == security["runAsUser"]
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    container = spec["containers"][0]["securityContext"]
    assert container == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
    }
    assert spec["automountServiceAccountToken"] is False and spec["enableServiceLinks"] is False
    assert spec["terminationGracePeriodSeconds"] >= 60
    for volume in spec["volumes"]:
        assert "hostPath" not in volume


def test_an_engine_needing_root_says_so_explicitly() -> None:
    plan = replace(plan_for(manifest(), assign(pool())), needs_root=True)
    assert container_security(plan) == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": False,
        "runAsUser": 0,
    }


def test_deployment_strategy_and_progress_deadline() -> None:
    big = assign(pool(gpu=H100), decided=sizing(H100, weights=140 * GB))
    spec = only(render_valid(manifest(), decision(big)), "Deployment")["spec"]
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}
    assert spec["revisionHistoryLimit"] <= 5
    startup = spec["template"]["spec"]["containers"][0]["startupProbe"]
    assert spec["progressDeadlineSeconds"] > startup["periodSeconds"] * startup["failureThreshold"]


def test_zero_replica_pool_keeps_a_deployment_scaled_to_zero() -> None:
    md = manifest(replicas=1)
    objects = render_valid(md, decision(assign(pool("a")), assign(pool("b"), 0)))
    assert [d["spec"]["replicas"] for d in by_kind(objects, "Deployment")] == [1, 0]
    assert not by_kind(objects, "PodDisruptionBudget")


@pytest.mark.parametrize(("replicas", "has_pdb"), [(0, False), (1, False), (2, True), (5, True)])
def test_pdb_only_with_two_replicas(replicas: int, has_pdb: bool) -> None:
    objects = render_valid(manifest(), decision(assign(pool(), replicas)))
    pdbs = by_kind(objects, "PodDisruptionBudget")
    assert bool(pdbs) is has_pdb
    if pdbs:
        assert pdbs[0]["spec"]["maxUnavailable"] == 1
        assert pdbs[0]["spec"]["selector"] == {"matchLabels": {MODEL_DEPLOYMENT: "llama"}}


def test_service_selects_every_pool_on_port_8000() -> None:
    md, placed = hybrid()
    service = only(render_valid(md, placed), "Service")
    assert service["metadata"]["name"] == "assistant"
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["selector"] == {MODEL_DEPLOYMENT: "assistant"}
    assert service["spec"]["ports"][0]["port"] == 8000 and service["spec"]["ports"][0]["targetPort"] == "http"


# --- autoscalers ----------------------------------------------------------------------------------


def scaled(metric: str, target: str = "4", **extra: Any) -> Any:
    return manifest(scaling={"minReplicas": 1, "maxReplicas": 8, "metric": metric, "target": target, **extra})


def test_no_autoscaler_without_scaling_or_backend() -> None:
    assert not by_kind(
        render_valid(manifest(), decision(assign(pool())), autoscaler=ScalingBackend.HPA), "HorizontalPodAutoscaler"
    )
    assert not by_kind(render_valid(scaled("QueueDepth"), decision(assign(pool()))), "HorizontalPodAutoscaler")
    with pytest.raises(ValueError, match="resolve the autoscaler backend"):
        build_autoscaler(scaled("QueueDepth"), decision(assign(pool())), ScalingBackend.AUTO, "vllm")


def test_hpa_scales_the_model_deployment_on_the_engine_queue() -> None:
    md = scaled("QueueDepth", scaleDownStabilizationSeconds=600)
    hpa = only(render_valid(md, decision(assign(pool())), autoscaler=ScalingBackend.HPA), "HorizontalPodAutoscaler")
    spec = hpa["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "genaiops.dev/v1alpha1", "kind": "ModelDeployment", "name": "llama"}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (1, 8)
    assert spec["metrics"] == [pods_metric("vllm:num_requests_waiting", "4")]
    assert spec["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 600


def pods_metric(name: str, average: str) -> dict[str, Any]:
    return {
        "type": "Pods",
        "pods": {"metric": {"name": name}, "target": {"type": "AverageValue", "averageValue": average}},
    }


@pytest.mark.parametrize(
    ("metric", "target", "expected"),
    [
        ("RunningRequests", "12", pods_metric("vllm:num_requests_running", "12")),
        ("KVCacheUsage", "80", pods_metric("vllm:kv_cache_usage_perc", "0.8")),  # the series is a 0..1 ratio
        (
            "CPU",
            "70",
            {
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
            },
        ),
        ("GPUUtilization", "75", pods_metric("DCGM_FI_DEV_GPU_UTIL", "75")),
    ],
)
def test_hpa_metric_kinds(metric: str, target: str, expected: dict[str, Any]) -> None:
    hpa = only(
        render_valid(scaled(metric, target), decision(assign(pool())), autoscaler=ScalingBackend.HPA),
        "HorizontalPodAutoscaler",
    )
    assert hpa["spec"]["metrics"] == [expected]


def test_hpa_reads_each_engine_of_a_hybrid_deployment() -> None:
    md, placed = hybrid()
    hpa = only(render_valid(md, placed, autoscaler=ScalingBackend.HPA), "HorizontalPodAutoscaler")
    assert [m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"]] == [
        "llamacpp:requests_deferred",
        "vllm:num_requests_waiting",
    ]
    assert hpa["metadata"]["labels"]["app.kubernetes.io/name"] == "llama-cpp"  # the primary pool's engine


def test_hpa_minimum_is_at_least_one() -> None:
    md = scaled("QueueDepth", minReplicas=0, backend="KEDA")
    hpa = only(render_valid(md, decision(assign(pool())), autoscaler=ScalingBackend.HPA), "HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] == 1


def test_scaled_object_shape() -> None:
    md = scaled("QueueDepth", minReplicas=0, backend="KEDA", scaleDownStabilizationSeconds=900)
    placed = decision(assign(pool(gpu=H100), 1, decided=sizing(H100, weights=140 * GB)))
    wake = (
        'sum(rate(nginx_ingress_controller_requests{exported_namespace="{namespace}",'
        'exported_service="{service}"}[2m]))'
    )
    settings = Settings(prometheus_address="http://prom.monitoring:9090", wake_query=wake)
    objects = render_valid(md, placed, owner_uid=UID, autoscaler=ScalingBackend.KEDA, settings=settings)
    scaled_object = only(objects, "ScaledObject")
    spec = scaled_object["spec"]
    assert scaled_object["apiVersion"] == "keda.sh/v1alpha1" and scaled_object["metadata"]["name"] == "llama"
    assert spec["scaleTargetRef"] == {"apiVersion": "genaiops.dev/v1alpha1", "kind": "ModelDeployment", "name": "llama"}
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (0, 8)
    assert spec["cooldownPeriod"] == 900
    startup = pod(only(objects, "Deployment"))["containers"][0]["startupProbe"]
    assert spec["initialCooldownPeriod"] >= startup["periodSeconds"] * startup["failureThreshold"]
    assert spec["fallback"] == {"failureThreshold": 3, "replicas": 1, "behavior": "currentReplicasIfHigher"}
    assert (
        spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 900
    )
    trigger, wake_up = spec["triggers"]
    assert trigger["type"] == "prometheus" and trigger["metricType"] == "AverageValue"
    assert trigger["metadata"] == {
        "serverAddress": "http://prom.monitoring:9090",
        "query": 'sum(vllm:num_requests_waiting{namespace="ml",model_name="llama"})',
        "threshold": "4",
        "activationThreshold": "0",
    }
    # Scale from zero: a second trigger on a series that exists while no pod runs, activation only.
    assert wake_up["name"] == "wake-up"
    assert wake_up["metadata"]["query"] == (
        'sum(rate(nginx_ingress_controller_requests{exported_namespace="ml",exported_service="llama"}[2m]))'
    )
    assert wake_up["metadata"]["activationThreshold"] == "0"
    assert float(wake_up["metadata"]["threshold"]) >= 1e9


def test_scale_to_zero_needs_a_wake_up_signal() -> None:
    placed = decision(assign(pool(gpu=H100), 1, decided=sizing(H100, weights=140 * GB)))
    no_signal = scaled("QueueDepth", minReplicas=0, backend="KEDA")
    spec = only(render_valid(no_signal, placed, autoscaler=ScalingBackend.KEDA), "ScaledObject")["spec"]
    assert spec["minReplicaCount"] == 1 and len(spec["triggers"]) == 1  # kept warm: nothing could wake it
    own = scaled(
        "QueueDepth",
        minReplicas=0,
        backend="KEDA",
        wakeUp={"query": 'sum(rate(gateway_requests_total{route="llama"}[1m]))', "threshold": "0.5"},
    )
    spec = only(render_valid(own, placed, autoscaler=ScalingBackend.KEDA), "ScaledObject")["spec"]
    assert spec["minReplicaCount"] == 0
    assert spec["triggers"][1]["metadata"]["query"] == 'sum(rate(gateway_requests_total{route="llama"}[1m]))'
    assert spec["triggers"][1]["metadata"]["activationThreshold"] == "0.5"


def test_scaled_object_queries_per_engine_and_overrides() -> None:
    md, placed = hybrid()
    scaled_object = only(render_valid(md, placed, autoscaler=ScalingBackend.KEDA), "ScaledObject")
    trigger = scaled_object["spec"]["triggers"][0]
    assert trigger["metadata"]["query"] == (
        '(sum(llamacpp:requests_deferred{namespace="ml",service="assistant"}) or vector(0)) + '
        '(sum(vllm:num_requests_waiting{namespace="ml",model_name="assistant"}) or vector(0))'
    )
    settings = Settings(
        metric_queries={
            "vllm:num_requests_waiting": "max({metric}{{selector}})",
            "QueueDepth": 'sum({metric}{namespace="{namespace}",app="{name}"})',
        }
    )
    custom = only(render_valid(md, placed, autoscaler=ScalingBackend.KEDA, settings=settings), "ScaledObject")
    assert custom["spec"]["triggers"][0]["metadata"]["query"] == (
        '(sum(llamacpp:requests_deferred{namespace="ml",app="assistant"}) or vector(0)) + '
        '(max(vllm:num_requests_waiting{namespace="ml",model_name="assistant"}) or vector(0))'
    )


def test_scaled_object_kv_cache_in_percent() -> None:
    objects = render_valid(scaled("KVCacheUsage", "80"), decision(assign(pool())), autoscaler=ScalingBackend.KEDA)
    so = only(objects, "ScaledObject")
    metadata = so["spec"]["triggers"][0]["metadata"]
    assert metadata["query"].endswith(" * 100") and metadata["threshold"] == "80"


def test_scaled_object_cpu_and_gpu_triggers_have_no_fallback() -> None:
    cpu = only(
        render_valid(
            scaled("CPU", "70", minReplicas=0, backend="KEDA"), decision(assign(pool())), autoscaler=ScalingBackend.KEDA
        ),
        "ScaledObject",
    )["spec"]
    assert cpu["triggers"] == [{"type": "cpu", "name": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}}]
    assert cpu["minReplicaCount"] == 1 and "fallback" not in cpu
    gpu = only(
        render_valid(scaled("GPUUtilization", "75"), decision(assign(pool())), autoscaler=ScalingBackend.KEDA),
        "ScaledObject",
    )["spec"]
    trigger = gpu["triggers"][0]
    assert trigger["metricType"] == "Value" and "fallback" not in gpu
    expected = 'avg(DCGM_FI_DEV_GPU_UTIL{namespace="ml",pod=~"(llama-cloud-l4)-.+"})'
    assert trigger["metadata"]["query"] == expected


@pytest.mark.parametrize("backend", [ScalingBackend.HPA, ScalingBackend.KEDA])
def test_kv_cache_scaling_on_tgi_is_refused(backend: ScalingBackend) -> None:
    md = scaled("KVCacheUsage", "80")
    with pytest.raises(MetricUnavailableError, match="tgi exports no KVCacheUsage"):
        render_valid(md, decision(assign(pool(), 1, Engine.TGI)), autoscaler=backend)


def test_empty_decision_still_renders_service_and_autoscaler() -> None:
    objects = render_valid(scaled("QueueDepth"), decision(), autoscaler=ScalingBackend.KEDA)
    assert [o["kind"] for o in objects] == ["Service", "ScaledObject"]
