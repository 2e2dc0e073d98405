"""Operator-wide settings (images, Prometheus, policy, loop tuning, leader lease): plain values, loaded at the edge.

This module is the one reader of GENAI_OPERATOR_* variables: `Settings.from_env` parses each once, and the
CLI calls it at start, where every bad value is reported together (SettingsError, one line per variable with
its problem and fix) before anything connects. The pure layers take a `Settings` argument; the controller
reads `Settings.loop` for its own tuning and the leader lease.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from genai_operator import __version__
from genai_operator.api.enums import Engine

ENV_PREFIX = "GENAI_OPERATOR_"
LOADER_IMAGE = f"ghcr.io/genaiops/genai-model-loader:{__version__}"
OCI_MODES = ("Pull", "ImageVolume")
IMAGE_ENGINES = (Engine.VLLM, Engine.SGLANG, Engine.LLAMA_CPP, Engine.TEI, Engine.TGI)


@dataclass(frozen=True)
class LoopSettings:
    """How the running operator works (controller/kopf_setup.py). None keeps the default where the value
    is used (RunOptions, Timings, LeaseConfig), so each default is written once."""

    # Concurrent reconciles.
    workers: int | None = None
    # The low-rate safety-net resync; the benchmark shortens it to measure steady-state writes.
    resync_seconds: float | None = None
    # Placement hysteresis: when stuck replicas spill over, and how long a better split must last to move back.
    unschedulable_seconds: float | None = None
    autoscaled_unschedulable_seconds: float | None = None
    return_seconds: float | None = None
    # The leader Lease: the chart sets the operator's namespace; else the pod's service-account namespace.
    lease_namespace: str | None = None
    lease_name: str | None = None


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
    # The operator process's own tuning and leader lease.
    loop: LoopSettings = field(default_factory=LoopSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings the environment gives (os.environ by default); raises SettingsError listing every
        bad variable. An empty variable counts as unset."""
        reader = _EnvReader(os.environ if env is None else env)
        settings = _read(reader)
        if reader.problems:
            raise SettingsError(reader.problems)
        return settings


class SettingsError(ValueError):
    """Every bad GENAI_OPERATOR_* variable at once, one line each: `NAME=value: problem; fix`."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        heading = "a bad setting" if len(problems) == 1 else f"{len(problems)} bad settings"
        super().__init__(f"{heading} in the environment:\n  " + "\n  ".join(self.problems))


class _BadValueError(Exception):
    """A value's problem and how to fix it (raised by the parsers below, collected by _EnvReader)."""

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}; {fix}")


T = TypeVar("T")


class _EnvReader:
    """Reads variables by their name after the prefix; records each name asked and each bad value."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.asked: list[str] = []
        self.problems: list[str] = []

    def get(self, name: str, parse: Callable[[str], T], default: T) -> T:
        variable = f"{ENV_PREFIX}{name}"
        self.asked.append(variable)
        raw = self.env.get(variable, "")
        if not raw:
            return default
        try:
            return parse(raw)
        except _BadValueError as exc:
            self.problems.append(f"{variable}={raw}: {exc}")
            return default


def _read(env: _EnvReader) -> Settings:
    """Every variable, read once: the one list of names (KNOWN_VARIABLES is what this asks for)."""
    defaults = Settings()
    images = {engine: env.get(f"IMAGE_{engine.value.upper()}", _text, "") for engine in IMAGE_ENGINES}
    loop = LoopSettings(
        workers=env.get("WORKERS", _positive_count, None),
        resync_seconds=env.get("RESYNC_SECONDS", _positive_seconds, None),
        unschedulable_seconds=env.get("UNSCHEDULABLE_SECONDS", _seconds, None),
        autoscaled_unschedulable_seconds=env.get("AUTOSCALED_UNSCHEDULABLE_SECONDS", _seconds, None),
        return_seconds=env.get("RETURN_SECONDS", _seconds, None),
        lease_namespace=env.get("LEASE_NAMESPACE", _text, None),
        lease_name=env.get("LEASE_NAME", _text, None),
    )
    return Settings(
        images={engine: image for engine, image in images.items() if image},
        loader_image=env.get("LOADER_IMAGE", _text, defaults.loader_image),
        prometheus_address=env.get("PROMETHEUS_ADDRESS", _text, defaults.prometheus_address),
        metric_queries=env.get("METRIC_QUERIES", _queries, defaults.metric_queries),
        wake_query=env.get("WAKE_QUERY", _text, defaults.wake_query),
        service_monitors=env.get("SERVICE_MONITORS", _flag, defaults.service_monitors),
        keda_enabled=env.get("KEDA_ENABLED", _flag, defaults.keda_enabled),
        default_gpu_types=env.get("DEFAULT_GPU_TYPES", _gpu_types, defaults.default_gpu_types),
        oci_models=env.get("OCI_MODELS", _oci_mode, defaults.oci_models),
        host_path_prefixes=env.get("HOST_PATH_PREFIXES", _absolute_dirs, defaults.host_path_prefixes),
        image_registries=env.get("ALLOWED_IMAGE_REGISTRIES", _list, defaults.image_registries),
        loop=loop,
    )


def _text(value: str) -> str:
    return value


def _list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


def _flag(value: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise _BadValueError("not true or false", "set true or false")
    return value.lower() == "true"


def _number(value: str, fix: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise _BadValueError("not a number", fix) from None
    if not math.isfinite(number):
        raise _BadValueError("not a finite number", fix)
    return number


def _positive_seconds(value: str) -> float:
    fix = "set a positive number of seconds"
    seconds = _number(value, fix)
    if seconds <= 0:
        raise _BadValueError("not positive", fix)
    return seconds


def _seconds(value: str) -> float:
    fix = "set a number of seconds, 0 or more"
    seconds = _number(value, fix)
    if seconds < 0:
        raise _BadValueError("negative", fix)
    return seconds


def _positive_count(value: str) -> int:
    fix = "set a whole number, 1 or more"
    try:
        count = int(value)
    except ValueError:
        raise _BadValueError("not a whole number", fix) from None
    if count <= 0:
        raise _BadValueError("not positive", fix)
    return count


def _gpu_types(value: str) -> tuple[str, ...]:
    types = _list(value)
    if not types:
        raise _BadValueError("no GPU type", "set GPU types separated by commas, e.g. nvidia-l4,nvidia-h100-80gb")
    return types


def _absolute_dirs(value: str) -> tuple[str, ...]:
    paths = _list(value)
    relative = [p for p in paths if not p.startswith("/")]
    if relative:
        raise _BadValueError(f"not absolute: {', '.join(relative)}", "set absolute directories separated by commas")
    return paths


def _oci_mode(value: str) -> str:
    if value not in OCI_MODES:
        raise _BadValueError("not a mode of oci:// models", "set Pull or ImageVolume")
    return value


def _queries(text: str) -> dict[str, str]:
    """Metric query templates from JSON: {"vllm:num_requests_waiting": "sum(...)", "QueueDepth": "..."}."""
    fix = 'set a JSON object mapping metric names to PromQL, e.g. {"QueueDepth": "sum(...)"}'
    try:
        loaded = json.loads(text)
    except ValueError as exc:
        raise _BadValueError(f"not JSON ({exc})", fix) from None
    if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
        raise _BadValueError("not a JSON object of strings", fix)
    return {str(k): v for k, v in loaded.items()}


def _known_variables() -> frozenset[str]:
    reader = _EnvReader({})
    _read(reader)
    return frozenset(reader.asked)


# Every variable the operator reads (the chart may set no other: tests/tools/test_chart.py).
KNOWN_VARIABLES = _known_variables()
