"""Operator-wide settings (images, Prometheus address, metric queries): plain values, loaded at the edge.

The pure layers take a `Settings` argument instead of reading the environment; `from_env` is called
only by the CLI.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from genai_operator.api.enums import Engine

ENV_PREFIX = "GENAI_OPERATOR_"


@dataclass(frozen=True)
class Settings:
    # Engine image overrides by engine (the engines' public images are the defaults).
    images: Mapping[Engine, str] = field(default_factory=dict)
    # Prometheus server KEDA queries for LLM signals.
    prometheus_address: str = "http://prometheus-operated.monitoring.svc:9090"
    # PromQL templates by metric name; {metric}, {namespace}, {selector} are filled in.
    metric_queries: Mapping[str, str] = field(default_factory=dict)
    # GPU types tried, in order, when a ModelDeployment names none and no inventory is known.
    default_gpu_types: tuple[str, ...] = ("nvidia-l4", "nvidia-a100-80gb", "nvidia-h100-80gb")
    # Cluster domain for the endpoint URL in status.
    cluster_domain: str = "svc"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        images = {
            engine: env[f"{ENV_PREFIX}IMAGE_{engine.value.upper()}"]
            for engine in (Engine.VLLM, Engine.LLAMA_CPP, Engine.TGI)
            if env.get(f"{ENV_PREFIX}IMAGE_{engine.value.upper()}")
        }
        defaults = cls()
        gpu_types = env.get(f"{ENV_PREFIX}DEFAULT_GPU_TYPES")
        return cls(
            images=images,
            prometheus_address=env.get(f"{ENV_PREFIX}PROMETHEUS_ADDRESS", defaults.prometheus_address),
            default_gpu_types=tuple(t.strip() for t in gpu_types.split(",") if t.strip())
            if gpu_types
            else defaults.default_gpu_types,
        )
