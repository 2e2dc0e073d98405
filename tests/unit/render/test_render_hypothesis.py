"""Property test of the render layer: arbitrary valid ModelDeploymentSpecs (every enum value, bounded
integers, optional scaling, every model URI scheme an engine supports) with hand-made placement
decisions over GPU and CPU pools of every tier render deterministically, carry the DESIGN labels and
short names, and every object passes strict schema validation (Kubernetes and KEDA)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from genai_operator.api.enums import (
    Engine,
    GgufType,
    KvCacheDtype,
    Precision,
    QuantMethod,
    ScalingBackend,
    ScalingMetric,
    Tier,
)
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.placement.types import PlacementDecision, PoolAssignment
from genai_operator.render.labels import MODEL_DEPLOYMENT, POOL
from genai_operator.render.signals import MetricUnavailableError, engine_groups
from genai_operator.settings import Settings
from genai_operator.sizing.types import SizingDecision
from support.render_fixtures import GB, GPUS, assign, decision, estimate, pool, render_valid

BITS = {
    Precision.FP32: 32.0,
    Precision.BF16: 16.0,
    Precision.FP16: 16.0,
    Precision.FP8: 8.5,
    Precision.INT8: 8.5,
    Precision.INT4: 4.8,
    Precision.AUTO: 16.0,
}
URIS: dict[Engine, list[str]] = {
    Engine.VLLM: [
        "hf://meta-llama/Llama-3.1-8B-Instruct",
        "hf://org/model@v1.2",
        "s3://bucket/models/llama",
        "gs://bucket/llama",
        "pvc://weights/llama-8b",
        "oci://registry.example/models/llama:1",
        "file:///srv/models/llama",
    ],
    Engine.LLAMA_CPP: [
        "hf://Qwen/Qwen2.5-1.5B-Instruct-GGUF",
        "hf://org/repo-GGUF/model-q4_k_m.gguf",
        "pvc://weights/qwen/q4.gguf",
        "file:///srv/models/q4.gguf",
    ],
    Engine.TGI: [
        "hf://TheBloke/Mistral-7B-Instruct-v0.2-GPTQ",
        "hf://org/model@main",
        "pvc://weights/mistral",
        "oci://registry.example/models/mistral:2",
    ],
}
METHODS = {Engine.LLAMA_CPP: [QuantMethod.NONE, QuantMethod.GGUF]}
OTHER_METHODS = [m for m in QuantMethod if m != QuantMethod.GGUF]
QUANTITIES = ["1", "2", "500m", "4", "16Gi", "64Gi", "2.5"]
TARGETS = ["1", "4", "80", "0.5", "750m", "12"]
NAMES = st.from_regex(r"[a-z][a-z0-9-]{0,60}[a-z0-9]", fullmatch=True)


@st.composite
def model_deployments(draw: st.DrawFn, engine: Engine) -> ModelDeployment:
    method = draw(st.sampled_from(METHODS.get(engine, OTHER_METHODS)))
    quantization: dict[str, Any] = {
        "precision": draw(st.sampled_from(list(Precision))).value,
        "method": method.value,
        "kvCache": draw(st.sampled_from(list(KvCacheDtype))).value,
    }
    if method == QuantMethod.GGUF and draw(st.booleans()):
        quantization["ggufType"] = draw(st.sampled_from(list(GgufType))).value
    model: dict[str, Any] = {"uri": draw(st.sampled_from(URIS[engine]))}
    if draw(st.booleans()):
        model["credentialsSecret"] = draw(st.sampled_from(["hf-token", "aws.creds", "pull-secret"]))
    serving: dict[str, Any] = {
        "maxContextLength": draw(st.integers(128, 1_048_576)),
        "maxConcurrentSequences": draw(st.integers(1, 4096)),
        "gpuMemoryUtilizationPercent": draw(st.integers(10, 99)),
        "port": draw(st.integers(1024, 65535)),
        "extraArgs": draw(st.lists(st.sampled_from(["--seed", "7", "--enable-prefix-caching"]), max_size=4)),
    }
    if draw(st.booleans()):
        serving["image"] = draw(st.sampled_from(["registry.example/engine:1.0", "mirror.local/vllm:v0.30.0"]))
    resources: dict[str, Any] = {}
    for key in ("cpu", "memory"):
        if draw(st.booleans()):
            resources[key] = draw(st.sampled_from(QUANTITIES))
    spec: dict[str, Any] = {
        "model": model,
        "engine": draw(st.sampled_from([engine, Engine.AUTO])).value,
        "quantization": quantization,
        "serving": serving,
        "resources": resources,
        "replicas": draw(st.integers(0, 1000)),
    }
    if draw(st.booleans()):
        low = draw(st.integers(0, 1000))
        spec["scaling"] = {
            "minReplicas": low,
            "maxReplicas": draw(st.integers(max(low, 1), 1000)),
            "metric": draw(st.sampled_from(list(ScalingMetric))).value,
            "target": draw(st.sampled_from(TARGETS)),
            "backend": draw(st.sampled_from(list(ScalingBackend))).value,
            "scaleDownStabilizationSeconds": draw(st.integers(0, 3600)),
        }
    metadata: dict[str, Any] = {"name": draw(NAMES)}
    if draw(st.booleans()):
        metadata["namespace"] = draw(NAMES)
    try:
        return ModelDeployment.model_validate(
            {"apiVersion": "genaiops.dev/v1alpha1", "kind": "ModelDeployment", "metadata": metadata, "spec": spec}
        )
    except ValidationError:
        assume(False)
        raise


@st.composite
def assignments(draw: st.DrawFn, engine: Engine, index: int, md: ModelDeployment) -> PoolAssignment:
    tier = draw(st.sampled_from(list(Tier)))
    on_cpu = engine == Engine.LLAMA_CPP and draw(st.booleans())
    gpu = None if on_cpu else draw(st.sampled_from(GPUS))
    gpus = 0 if gpu is None else draw(st.sampled_from([1, 2, 4, 8]))
    selector: dict[str, str] = {}
    if gpu is not None and draw(st.booleans()):
        selector["nvidia.com/gpu.product"] = gpu.products[0]
    if tier == Tier.EDGE and draw(st.booleans()):
        selector["node-role.kubernetes.io/edge"] = ""
    tolerations = draw(
        st.sampled_from(
            [
                (),
                ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},),
                ({"key": "dedicated", "operator": "Equal", "value": "llm", "effect": "NoSchedule"},),
            ]
        )
    )
    target = pool(
        f"pool-{index}-{tier.value.lower()}",
        tier,
        gpu=gpu,
        cpu_only=on_cpu,
        selector=selector,
        tolerations=tolerations,
        arch=draw(st.sampled_from([None, "amd64", "arm64"])),
        resource=gpu.resource_name if gpu else "nvidia.com/gpu",
    )
    precision = md.spec.quantization.precision
    if precision == Precision.AUTO:
        precision = draw(st.sampled_from([Precision.BF16, Precision.FP8, Precision.INT8, Precision.INT4]))
    weights = draw(st.integers(GB // 2, 900 * GB))
    decided = SizingDecision(
        True,
        estimate(precision, md.spec.quantization.method, weights=weights, bits=BITS[precision]),
        gpu,
        gpus,
        max(gpus, 1),
    )
    return assign(target, draw(st.integers(0, 6)), engine, decided)


Scenario = tuple[ModelDeployment, PlacementDecision, ScalingBackend | None]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    engine = draw(st.sampled_from([Engine.VLLM, Engine.LLAMA_CPP, Engine.TGI]))
    md = draw(model_deployments(engine))
    count = draw(st.integers(0, 3))
    placed = decision(*(draw(assignments(engine, i, md)) for i in range(count)))
    backend = draw(st.sampled_from([None, ScalingBackend.HPA, ScalingBackend.KEDA]))
    return md, placed, backend


EDGE_MODELS = Settings(host_path_prefixes=("/srv/models",))  # the file:// sources drawn above


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.sampled_from([None, "0b6f4f0e-5b0e-4c57-9d39-6f2b8f1f4a10"]))
def test_arbitrary_specs_render_valid_objects(scenario: Scenario, uid: str | None) -> None:
    md, placed, backend = scenario
    scaling = md.spec.scaling
    engines = {g.profile.engine for g in engine_groups(md, placed)}
    tgi_kv = (
        backend is not None
        and scaling is not None
        and scaling.metric == ScalingMetric.KV_CACHE_USAGE
        and Engine.TGI in engines
    )
    if tgi_kv:
        try:
            render_valid(md, placed, owner_uid=uid, autoscaler=backend, settings=EDGE_MODELS)
        except MetricUnavailableError:
            return
        raise AssertionError("KVCacheUsage on TGI must be refused")
    objects = render_valid(md, placed, owner_uid=uid, autoscaler=backend, settings=EDGE_MODELS)
    assert objects == render_valid(md, placed, owner_uid=uid, autoscaler=backend, settings=EDGE_MODELS)
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    assert len(deployments) == len(placed.assignments)
    assert [d["spec"]["replicas"] for d in deployments] == [a.replicas for a in placed.assignments]
    for obj in objects:
        meta = obj["metadata"]
        assert len(meta["name"]) <= 63 and meta["labels"][MODEL_DEPLOYMENT] == md.metadata.name
        assert meta["labels"]["app.kubernetes.io/managed-by"] == "genai-operator"
        assert ("ownerReferences" in meta) is (uid is not None)
        assert (POOL in meta["labels"]) is (obj["kind"] == "Deployment")
    has_pdb = any(o["kind"] == "PodDisruptionBudget" for o in objects)
    assert has_pdb is (placed.replicas >= 2)
