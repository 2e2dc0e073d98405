"""The endpoint picker (EPP) of a routed ModelDeployment: its configuration, identity, grants, pod and Service.

The picker is the Gateway API Inference Extension's reference EPP, pinned: it watches the InferencePool
`<md>` and its pods, scrapes each pod's engine metrics, and answers the proxy's ext_proc calls with the
endpoint to use. Its EndpointPickerConfig is generated from what the operator knows of the model:

- queue-scorer (every engine): prefer the replica with the fewest waiting requests;
- kv-cache-utilization-scorer (engines that export KV-cache use: vLLM, llama.cpp): prefer free KV cache,
  so long prompts do not land where they would preempt running sequences;
- prefix-cache-scorer (vLLM, whose automatic prefix caching reuses a shared prompt's KV blocks): send a
  request to the replica that most likely still holds its prompt's prefix;
- lora-affinity-scorer (spec.adapters): prefer replicas that already have the requested adapter loaded.

The metric names per engine are the ones the autoscalers read (engines/*: EngineMetrics), told apart by
the pods' app.kubernetes.io/name label, so a pool of llama.cpp on the edge and vLLM in the cloud is
scraped correctly. The flowControl feature holds requests in the picker while the pool is saturated or
has no ready replica, up to the queue timeout: the queue that makes scale from zero hold the first
request, and whose size (inference_extension_flow_control_queue_size) wakes KEDA.

Grants follow the upstream chart's Roles: read pods, the InferencePool, and the InferenceObjective /
InferenceModelRewrite objects the picker watches. Its metrics endpoint is served without token review,
which would need a ClusterRole the operator does not hand out.
"""

from __future__ import annotations

from typing import Any

import yaml

from genai_operator.api.enums import Engine
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.routing import Routing
from genai_operator.engines import EngineProfile
from genai_operator.render.labels import COMPONENT, INSTANCE, MANAGED_BY, MODEL_DEPLOYMENT, NAME
from genai_operator.render.metadata import md_namespace, object_meta

EPP_IMAGE = "registry.k8s.io/gateway-api-inference-extension/epp:v1.5.0"
EXT_PROC_PORT = 9002
HEALTH_PORT = 9003
METRICS_PORT = 9090
CONFIG_API = "inference.networking.x-k8s.io/v1alpha1"
POOL_API = "inference.networking.k8s.io/v1"
ENGINE_LABEL_KEY = NAME  # the engine of each pod, as pool_labels sets it
PICKER_USER = 65532  # the distroless "nonroot" user of the EPP and Envoy images
ROUTER_COMPONENT = "router"
ROUTER_LABEL = "genaiops.dev/router"  # pod label of the picker: never the model label, or it would route to itself
# Scorer weights as the upstream chart's default profile: load signals 2, prefix-cache affinity 3.
WEIGHTS = {"queue-scorer": 2, "kv-cache-utilization-scorer": 2, "prefix-cache-scorer": 3, "lora-affinity-scorer": 1}


def picker_labels(md_name: str, *, pod: bool = False) -> dict[str, str]:
    """Labels of the picker's objects; its pods lack the ModelDeployment label, which selects model pods."""
    labels = {
        NAME: "endpoint-picker",
        INSTANCE: md_name,
        MANAGED_BY: "genai-operator",
        COMPONENT: ROUTER_COMPONENT,
        ROUTER_LABEL: md_name,
    }
    if not pod:
        labels[MODEL_DEPLOYMENT] = md_name
    return labels


def engine_config(profile: EngineProfile) -> dict[str, str]:
    metrics = profile.metrics
    vllm = profile.engine == Engine.VLLM
    return {
        "name": profile.label,
        "queuedRequestsSpec": metrics.queue_depth,
        "runningRequestsSpec": metrics.running_requests,
        "kvUsageSpec": metrics.kv_cache_usage or "",
        "loraSpec": "vllm:lora_requests_info" if vllm else "",
        "cacheInfoSpec": "vllm:cache_config_info" if vllm else "",
    }


def picker_config(md: ModelDeployment, profiles: list[EngineProfile], queue_seconds: int | None) -> dict[str, Any]:
    """The EndpointPickerConfig; `profiles` in pool order (the primary engine is the default). `queue_seconds`
    None: no flow control, so a pool without a ready replica is answered at once (a site picker's 503,
    on which its proxy falls back to the global one) instead of held."""
    scorers = ["queue-scorer"]
    if any(p.metrics.kv_cache_usage for p in profiles):
        scorers.append("kv-cache-utilization-scorer")
    if any(p.engine == Engine.VLLM for p in profiles):
        scorers.append("prefix-cache-scorer")
    if md.spec.adapters:
        scorers.append("lora-affinity-scorer")
    extractor = {
        "engineLabelKey": ENGINE_LABEL_KEY,
        "defaultEngine": profiles[0].label,
        "engineConfigs": [engine_config(p) for p in profiles],
    }
    config: dict[str, Any] = {
        "apiVersion": CONFIG_API,
        "kind": "EndpointPickerConfig",
        "featureGates": ["flowControl"],
        "plugins": [
            {"type": "metrics-data-source", "parameters": {"scheme": "http", "path": profiles[0].metrics.path}},
            {"type": "core-metrics-extractor", "parameters": extractor},
            *({"type": s} for s in scorers),
            {"type": "max-score-picker"},
            {"type": "single-profile-handler"},
        ],
        "schedulingProfiles": [
            {
                "name": "default",
                "plugins": [
                    *({"pluginRef": s, "weight": WEIGHTS[s]} for s in scorers),
                    {"pluginRef": "max-score-picker"},
                ],
            }
        ],
        "dataLayer": {
            "sources": [{"pluginRef": "metrics-data-source", "extractors": [{"pluginRef": "core-metrics-extractor"}]}]
        },
        "flowControl": {"defaultRequestTTL": f"{queue_seconds}s"},
    }
    if queue_seconds is None:
        del config["featureGates"], config["flowControl"]
    return config


def picker_identity(name: str, namespace: str, md_name: str, owner_uid: str | None) -> list[dict[str, Any]]:
    """ServiceAccount, Role and RoleBinding of the picker: read-only, in its namespace."""

    def meta() -> dict[str, Any]:
        return object_meta(name, namespace, picker_labels(md_name), md_name=md_name, owner_uid=owner_uid)

    read = ["get", "list", "watch"]
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(), "automountServiceAccountToken": True},
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta(),
            "rules": [
                {"apiGroups": [""], "resources": ["pods"], "verbs": list(read)},
                {"apiGroups": ["inference.networking.k8s.io"], "resources": ["inferencepools"], "verbs": list(read)},
                {
                    "apiGroups": ["inference.networking.x-k8s.io"],
                    "resources": ["inferenceobjectives", "inferencemodelrewrites"],
                    "verbs": list(read),
                },
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta(),
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
        },
    ]


def restricted(container: dict[str, Any]) -> dict[str, Any]:
    container["securityContext"] = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
    }
    return container


def picker_container(pool_name: str, namespace: str, config: dict[str, Any]) -> dict[str, Any]:

    def grpc_probe() -> dict[str, Any]:
        return {"grpc": {"port": HEALTH_PORT, "service": "inference-extension"}}

    return restricted(
        {
            "name": "epp",
            "image": EPP_IMAGE,
            "imagePullPolicy": "IfNotPresent",
            "args": [
                "--pool-name",
                pool_name,
                "--pool-namespace",
                namespace,
                "--pool-group",
                "inference.networking.k8s.io",
                "--zap-encoder",
                "json",
                "--metrics-endpoint-auth=false",
                "--tracing=false",
                "--config-text",
                # `$$`: the kubelet expands $(NAME) in args; the config holds no variable of ours.
                yaml.safe_dump(config, sort_keys=False).replace("$", "$$"),
            ],
            "ports": [
                {"name": "grpc", "containerPort": EXT_PROC_PORT},
                {"name": "grpc-health", "containerPort": HEALTH_PORT},
                {"name": "metrics", "containerPort": METRICS_PORT},
            ],
            "env": [
                {"name": "NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            ],
            "livenessProbe": {**grpc_probe(), "initialDelaySeconds": 5, "periodSeconds": 10},
            "readinessProbe": {**grpc_probe(), "periodSeconds": 2},
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
            "resources": {"requests": {"cpu": "200m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
            "terminationMessagePolicy": "FallbackToLogsOnError",
        }
    )


def picker_deployment(
    name: str, namespace: str, md_name: str, containers: list[dict[str, Any]], owner_uid: str | None
) -> dict[str, Any]:
    pod_labels = picker_labels(md_name, pod=True)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": object_meta(name, namespace, picker_labels(md_name), md_name=md_name, owner_uid=owner_uid),
        "spec": {
            "replicas": 1,
            # One active picker (its prefix-cache index lives in memory), replaced at once, as upstream does.
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": {ROUTER_LABEL: md_name, COMPONENT: ROUTER_COMPONENT}},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "serviceAccountName": name,
                    "enableServiceLinks": False,
                    # Held requests finish or time out before the picker goes.
                    "terminationGracePeriodSeconds": 130,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": PICKER_USER,
                        "runAsGroup": PICKER_USER,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": containers,
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                },
            },
        },
    }


def picker_service(
    name: str, namespace: str, md_name: str, extra_ports: list[dict[str, Any]], owner_uid: str | None
) -> dict[str, Any]:
    ports = [
        {"name": "grpc-ext-proc", "port": EXT_PROC_PORT, "targetPort": EXT_PROC_PORT, "protocol": "TCP"},
        {"name": "http-metrics", "port": METRICS_PORT, "targetPort": METRICS_PORT, "protocol": "TCP"},
        *extra_ports,
    ]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": object_meta(name, namespace, picker_labels(md_name), md_name=md_name, owner_uid=owner_uid),
        "spec": {
            "type": "ClusterIP",
            "selector": {ROUTER_LABEL: md_name, COMPONENT: ROUTER_COMPONENT},
            "ports": ports,
        },
    }


def inference_pool(
    md: ModelDeployment,
    routing: Routing,
    picker: str,
    owner_uid: str | None,
    *,
    name: str,
    labels: dict[str, str],
    pods: dict[str, str],
) -> dict[str, Any]:
    """An InferencePool `name` over the pods `pods` selects, its endpoints picked by `picker`."""
    return {
        "apiVersion": POOL_API,
        "kind": "InferencePool",
        "metadata": object_meta(name, md_namespace(md), labels, md_name=md.metadata.name, owner_uid=owner_uid),
        "spec": {
            "selector": {"matchLabels": pods},
            "targetPorts": [{"number": md.spec.serving.port}],
            "appProtocol": "http",
            "endpointPickerRef": {
                "name": picker,
                "port": {"number": EXT_PROC_PORT},
                "failureMode": routing.failure_mode,
            },
        },
    }
