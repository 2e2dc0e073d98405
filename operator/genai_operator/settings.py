"""Operator-wide settings (images, Prometheus address, metric queries): plain values, loaded at the edge.

The pure layers take a `Settings` argument instead of reading the environment; `from_env` is called
only by the CLI.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from genai_operator import __version__
from genai_operator.api.enums import Engine

ENV_PREFIX = "GENAI_OPERATOR_"
LOADER_IMAGE = f"ghcr.io/genaiops/genai-model-loader:{__version__}"


@dataclass(frozen=True)
class Settings:
    # Engine image overrides by engine (the engines' public images are the defaults).
    images: Mapping[Engine, str] = field(default_factory=dict)
    # The model-loader init container (images/loader), same version as the operator.
    loader_image: str = LOADER_IMAGE
    # Prometheus server KEDA queries for LLM signals.
    prometheus_address: str = "http://prometheus-operated.monitoring.svc:9090"
    # PromQL templates by metric name; {metric}, {namespace}, {selector} are filled in.
    metric_queries: Mapping[str, str] = field(default_factory=dict)
    # GPU types tried, in order, when a ModelDeployment names none and no inventory is known.
    default_gpu_types: tuple[str, ...] = ("nvidia-l4", "nvidia-a100-80gb", "nvidia-h100-80gb")
    # Scale-from-zero signal for minReplicas 0 when a ModelDeployment sets no scaling.wakeUp: a PromQL
    # template over what sits in front of the pods (gateway, ingress); {namespace}, {name}, {service}.
    wake_query: str | None = None
    # Create a ServiceMonitor per ModelDeployment when the Prometheus Operator's CRDs are installed.
    service_monitors: bool = True
    # Use KEDA when installed. False: never watch, discover or create keda.sh objects (a chart installed
    # with keda.enabled=false grants no RBAC for them, even where KEDA runs).
    keda_enabled: bool = True
    # Cluster domain for the endpoint URL in status.
    cluster_domain: str = "svc"
    # How oci:// models reach pods: "Pull" (the loader pulls the artifact into the pool's cache, on any
    # cluster) or "ImageVolume" (the kubelet mounts it; Kubernetes 1.35+, or the ImageVolume gate on 1.31+).
    oci_models: str = "Pull"
    # Node directories file:// sources may mount (engines/policy.py); none by default, so no ModelDeployment
    # can mount a node path unless the platform team names the directory that holds edge models.
    host_path_prefixes: tuple[str, ...] = ()
    # Registries (host or host/path) spec.serving.image must come from; empty: any image.
    image_registries: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        images: dict[Engine, str] = {
            engine: env[f"{ENV_PREFIX}IMAGE_{engine.value.upper()}"]
            for engine in Engine
            if engine is not Engine.AUTO
            if env.get(f"{ENV_PREFIX}IMAGE_{engine.value.upper()}")
        }
        defaults = cls()
        gpu_types = env.get(f"{ENV_PREFIX}DEFAULT_GPU_TYPES")
        queries = env.get(f"{ENV_PREFIX}METRIC_QUERIES")
        return cls(
            images=images,
            loader_image=env.get(f"{ENV_PREFIX}LOADER_IMAGE") or defaults.loader_image,
            prometheus_address=env.get(f"{ENV_PREFIX}PROMETHEUS_ADDRESS", defaults.prometheus_address),
            metric_queries=_queries(queries) if queries else {},
            wake_query=env.get(f"{ENV_PREFIX}WAKE_QUERY") or None,
            service_monitors=env.get(f"{ENV_PREFIX}SERVICE_MONITORS", "true").lower() != "false",
            keda_enabled=env.get(f"{ENV_PREFIX}KEDA_ENABLED", "true").lower() != "false",
            default_gpu_types=_list(gpu_types) if gpu_types else defaults.default_gpu_types,
            oci_models=_oci_models(env.get(f"{ENV_PREFIX}OCI_MODELS") or defaults.oci_models),
            host_path_prefixes=_host_paths(env.get(f"{ENV_PREFIX}HOST_PATH_PREFIXES", "")),
            image_registries=_list(env.get(f"{ENV_PREFIX}ALLOWED_IMAGE_REGISTRIES", "")),
        )


OCI_MODES = ("Pull", "ImageVolume")


def _list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _host_paths(value: str) -> tuple[str, ...]:
    paths = _list(value)
    relative = [p for p in paths if not p.startswith("/")]
    if relative:
        raise ValueError(f"{ENV_PREFIX}HOST_PATH_PREFIXES takes absolute directories, got {', '.join(relative)}")
    return paths


def _oci_models(value: str) -> str:
    if value not in OCI_MODES:
        raise ValueError(f"{ENV_PREFIX}OCI_MODELS must be Pull or ImageVolume, got {value!r}")
    return value


def _queries(text: str) -> dict[str, str]:
    """Metric query templates from JSON: {"vllm:num_requests_waiting": "sum(...)", "QueueDepth": "..."}."""
    try:
        loaded = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{ENV_PREFIX}METRIC_QUERIES is not a JSON object of strings: {exc}") from None
    if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
        raise ValueError(f"{ENV_PREFIX}METRIC_QUERIES must be a JSON object mapping metric names to PromQL")
    return {str(k): v for k, v in loaded.items()}
