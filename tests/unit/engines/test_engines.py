"""Engine profiles (vLLM, llama.cpp, TGI): command lines for every precision/method combination, GGUF
file choice, tensor parallelism and /dev/shm, extraArgs order, credentials by reference only, images and
their overrides, probes scaled with model size, resources, metric names and model URI parsing (quantities:
tests/unit/formats/test_quantity.py)."""

from __future__ import annotations

import json

import pytest

from genai_operator.api.enums import Engine, GgufType, Precision, QuantMethod, ScalingMetric, Tier
from genai_operator.api.placementpool import EngineDefaults
from genai_operator.engines import UnsupportedModelSourceError, engine_profile
from genai_operator.engines.resources import MAX_STARTUP_SECONDS
from genai_operator.engines.source import parse_model_uri
from genai_operator.formats.quantity import parse_quantity
from genai_operator.settings import Settings
from genai_operator.sizing.types import GpuType
from support.render_fixtures import (
    A100,
    GB,
    H100,
    L4,
    MI300,
    ORIN,
    T4,
    assign,
    env_map,
    flag,
    manifest,
    plan_for,
    pool,
    sizing,
)

AWQ_URI = "hf://hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4"
GGUF_URI = "hf://Qwen/Qwen2.5-1.5B-Instruct-GGUF"


def quantized(method: QuantMethod, precision: Precision) -> dict[str, object]:
    return {"quantization": {"method": method.value, "precision": precision.value}}


# --- vLLM ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "precision", "gpu", "expected"),
    [
        (QuantMethod.AWQ, Precision.INT4, L4, "awq_marlin"),
        (QuantMethod.AWQ, Precision.INT4, T4, "awq"),
        (QuantMethod.GPTQ, Precision.INT4, A100, "gptq_marlin"),
        (QuantMethod.GPTQ, Precision.INT8, T4, "gptq"),
        (QuantMethod.BITS_AND_BYTES, Precision.INT4, L4, "bitsandbytes"),
        (QuantMethod.BITS_AND_BYTES, Precision.INT8, L4, "bitsandbytes"),
        (QuantMethod.FP8, Precision.FP8, H100, "fp8"),
        (QuantMethod.NONE, Precision.FP8, L4, "fp8"),
        (QuantMethod.NONE, Precision.INT8, A100, "fp8"),
        (QuantMethod.NONE, Precision.INT8, T4, "bitsandbytes"),
        (QuantMethod.NONE, Precision.INT4, L4, "bitsandbytes"),
        (QuantMethod.NONE, Precision.BF16, L4, None),
        (QuantMethod.NONE, Precision.FP16, T4, None),
    ],
)
def test_vllm_quantization_flag(method: QuantMethod, precision: Precision, gpu: GpuType, expected: str | None) -> None:
    md = manifest(engine="VLLM", **quantized(method, precision))
    plan = plan_for(md, assign(pool(gpu=gpu), decided=sizing(gpu, precision=precision, method=method)))
    assert flag(plan.args, "--quantization") == expected


@pytest.mark.parametrize(
    ("precision", "method", "gpu", "expected"),
    [
        (Precision.BF16, QuantMethod.NONE, L4, "bfloat16"),
        (Precision.BF16, QuantMethod.NONE, T4, "float16"),  # Turing has no bf16
        (Precision.FP16, QuantMethod.NONE, L4, "float16"),
        (Precision.FP32, QuantMethod.NONE, A100, "float32"),
        (Precision.INT4, QuantMethod.AWQ, L4, None),
        (Precision.INT4, QuantMethod.AWQ, T4, "float16"),
    ],
)
def test_vllm_dtype(precision: Precision, method: QuantMethod, gpu: GpuType, expected: str | None) -> None:
    md = manifest(engine="VLLM", **quantized(method, precision))
    plan = plan_for(md, assign(pool(gpu=gpu), decided=sizing(gpu, precision=precision, method=method)))
    assert flag(plan.args, "--dtype") == expected


def test_vllm_serving_flags_follow_the_spec() -> None:
    md = manifest(
        name="chat",
        engine="VLLM",
        serving={
            "maxContextLength": 16384,
            "maxConcurrentSequences": 32,
            "gpuMemoryUtilizationPercent": 85,
            "port": 8080,
        },
    )
    plan = plan_for(md, assign(pool()))
    assert plan.command == ("vllm", "serve")
    # positional (--model is deprecated): the local directory the model loader filled
    assert plan.args[0].startswith("/model-cache/llama-3-1-8b-instruct-")
    assert flag(plan.args, "--served-model-name") == "chat"
    assert flag(plan.args, "--max-model-len") == "16384"
    assert flag(plan.args, "--max-num-seqs") == "32"
    assert flag(plan.args, "--gpu-memory-utilization") == "0.85"
    assert flag(plan.args, "--port") == "8080" and plan.port == 8080
    assert "--tensor-parallel-size" not in plan.args and "--kv-cache-dtype" not in plan.args


@pytest.mark.parametrize(("tp", "shm"), [(1, "2Gi"), (2, "8Gi"), (4, "16Gi"), (8, "16Gi")])
def test_tensor_parallel_sets_flag_and_grows_shm(tp: int, shm: str) -> None:
    md = manifest(engine="VLLM")
    plan = plan_for(md, assign(pool(gpu=H100), decided=sizing(H100, gpus=tp, tp=tp)))
    assert flag(plan.args, "--tensor-parallel-size") == (str(tp) if tp > 1 else None)
    shm_volume = next(v for v in plan.volumes if v["name"] == "shm")
    assert shm_volume["emptyDir"] == {"medium": "Memory", "sizeLimit": shm}
    assert plan.resources["limits"]["nvidia.com/gpu"] == str(tp)


def test_kv_cache_fp8_per_engine() -> None:
    spec = {"quantization": {"kvCache": "FP8"}}
    vllm = plan_for(manifest(engine="VLLM", **spec), assign(pool()))
    tgi = plan_for(manifest(engine="TGI", **spec), assign(pool(), engine=Engine.TGI))
    cpp = plan_for(manifest(engine="LlamaCpp", **spec), assign(pool(), engine=Engine.LLAMA_CPP))
    assert flag(vllm.args, "--kv-cache-dtype") == "fp8"
    assert flag(tgi.args, "--kv-cache-dtype") == "fp8_e4m3fn"
    assert flag(cpp.args, "--cache-type-k") == "q8_0" and flag(cpp.args, "--cache-type-v") == "q8_0"
    assert flag(cpp.args, "--flash-attn") == "on"


@pytest.mark.parametrize("engine", [Engine.VLLM, Engine.LLAMA_CPP, Engine.TGI])
def test_extra_args_come_last(engine: Engine) -> None:
    md = manifest(engine=engine.value, serving={"extraArgs": ["--seed", "7", "--enable-x"]})
    plan = plan_for(md, assign(pool(), engine=engine))
    assert list(plan.args[-3:]) == ["--seed", "7", "--enable-x"]


def test_vllm_revision_and_object_store_sources() -> None:
    with_revision = plan_for(manifest(model={"uri": "hf://org/model@abc123"}, engine="VLLM"), assign(pool()))
    other_revision = plan_for(manifest(model={"uri": "hf://org/model@def456"}, engine="VLLM"), assign(pool()))
    # The revision is part of the cache key: a new revision is a new directory, never a stale cache hit.
    assert with_revision.args[0] != other_revision.args[0]
    assert "--revision" not in with_revision.args  # the loader fetched that revision; vLLM reads a path
    s3 = plan_for(
        manifest(model={"uri": "s3://bucket/llama", "credentialsSecret": "aws"}, engine="VLLM"), assign(pool())
    )
    assert s3.args[0].startswith("/model-cache/llama-")
    loader = s3.init_containers[0]
    assert loader["envFrom"] == [{"secretRef": {"name": "aws", "optional": False}}]
    assert not s3.env_from and "HF_TOKEN" not in env_map({"env": list(s3.env)})


# --- llama.cpp ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec_type", "pool_type", "precision", "expected"),
    [
        (GgufType.Q5_K_M, GgufType.Q8_0, Precision.INT4, "Q5_K_M"),  # the spec wins
        (None, GgufType.Q8_0, Precision.INT4, "Q8_0"),  # then the pool default
        (None, None, Precision.INT4, "Q4_K_M"),  # then the precision
        (None, None, Precision.INT8, "Q8_0"),
        (None, None, Precision.FP16, "F16"),
    ],
)
def test_llamacpp_picks_the_gguf_type(
    spec_type: GgufType | None, pool_type: GgufType | None, precision: Precision, expected: str
) -> None:
    quantization: dict[str, object] = {"method": "GGUF"}
    if spec_type:
        quantization["ggufType"] = spec_type.value
    md = manifest(model={"uri": GGUF_URI}, engine="LlamaCpp", quantization=quantization)
    defaults = EngineDefaults(gguf_type=pool_type) if pool_type else None
    target = pool("store", Tier.EDGE, cpu_only=True, defaults=defaults)
    plan = plan_for(
        md, assign(target, engine=Engine.LLAMA_CPP, decided=sizing(None, precision=precision, method=QuantMethod.GGUF))
    )
    item = loader_plan(plan)[0]
    assert item["uri"] == GGUF_URI and item["ggufType"] == expected and item["link"] == "model.gguf"
    assert flag(plan.args, "--model") == f"{item['dest']}/model.gguf"


def test_llamacpp_context_is_shared_by_all_slots() -> None:
    md = manifest(
        model={"uri": GGUF_URI},
        engine="LlamaCpp",
        quantization={"method": "GGUF"},
        serving={"maxContextLength": 4096, "maxConcurrentSequences": 4},
    )
    plan = plan_for(md, assign(pool(cpu_only=True), engine=Engine.LLAMA_CPP, decided=sizing(None)))
    assert flag(plan.args, "--ctx-size") == str(4096 * 4) and flag(plan.args, "--parallel") == "4"
    assert flag(plan.args, "--alias") == "llama" and "--metrics" in plan.args
    assert flag(plan.args, "--host") == "0.0.0.0"


@pytest.mark.parametrize(
    ("uri", "model", "item"),
    [
        ("hf://org/repo-GGUF/model-q4.gguf", "/model-cache/model-q4-gguf-", {"file": "model-q4.gguf", "mode": "fetch"}),
        ("s3://bucket/qwen", "/model-cache/qwen-", {"ggufType": "F16", "mode": "fetch"}),  # BF16 sizing
        ("pvc://models/qwen/q4.gguf", "/model-source/qwen/q4.gguf", {"mode": "verify"}),
        ("file:///opt/models/q4.gguf", "/opt/models/q4.gguf", {"mode": "verify"}),
    ],
)
def test_llamacpp_model_sources(uri: str, model: str, item: dict[str, str]) -> None:
    md = manifest(model={"uri": uri}, engine="LlamaCpp")
    plan = plan_for(md, assign(pool(cpu_only=True), engine=Engine.LLAMA_CPP, decided=sizing(None)))
    assert plan.args[0] == "--model" and plan.args[1].startswith(model)
    assert item.items() <= loader_plan(plan)[0].items()


LLAMA_IMAGE = "ghcr.io/ggml-org/llama.cpp"


@pytest.mark.parametrize(
    ("target", "image", "arch", "gpu_flag"),
    [
        (pool("cpu", cpu_only=True), f"{LLAMA_IMAGE}:server-b9660", None, False),
        (pool("l4", gpu=L4), f"{LLAMA_IMAGE}:server-cuda-b9660", None, True),
        (pool("orin", Tier.EDGE, gpu=ORIN, arch="arm64"), f"{LLAMA_IMAGE}:server-cuda-b9660", None, True),
        (pool("mi300", gpu=MI300, resource="amd.com/gpu"), f"{LLAMA_IMAGE}:server-rocm-b9660", "amd64", True),
    ],
)
def test_llamacpp_image_follows_the_hardware(target: object, image: str, arch: str | None, gpu_flag: bool) -> None:
    from genai_operator.placement.types import Pool

    assert isinstance(target, Pool)
    decided = sizing(target.gpu) if target.gpu else sizing(None)
    plan = plan_for(
        manifest(model={"uri": GGUF_URI}, engine="LlamaCpp"), assign(target, engine=Engine.LLAMA_CPP, decided=decided)
    )
    assert plan.image == image and plan.node_arch == arch
    assert ("--n-gpu-layers" in plan.args) is gpu_flag
    assert ("--threads" in plan.args) is not gpu_flag
    assert not any(v["name"] == "shm" for v in plan.volumes)


@pytest.mark.parametrize("uri", ["oci://reg/model:1", "pvc://models/qwen"])
def test_llamacpp_rejects_mounted_sources_that_are_not_a_gguf_file(uri: str) -> None:
    md = manifest(model={"uri": uri}, engine="LlamaCpp")
    with pytest.raises(UnsupportedModelSourceError, match=r"llama\.cpp"):
        plan_for(
            md,
            assign(pool(cpu_only=True), engine=Engine.LLAMA_CPP, decided=sizing(None)),
            Settings(oci_models="ImageVolume"),
        )


def test_llamacpp_loads_the_gguf_file_of_a_pulled_oci_artifact() -> None:
    md = manifest(model={"uri": "oci://reg.example.com/models/qwen-gguf:q4"}, engine="LlamaCpp")
    plan = plan_for(md, assign(pool(cpu_only=True), engine=Engine.LLAMA_CPP, decided=sizing(None)))
    init = plan.init_containers[0]
    (item,) = json.loads(init["args"][1])
    assert item["mode"] == "fetch" and item["link"] == "model.gguf" and item["uri"] == md.spec.model.uri
    assert flag(plan.args, "--model") == f"{item['dest']}/model.gguf"


def test_llamacpp_threads_follow_the_cpu_request() -> None:
    md = manifest(model={"uri": GGUF_URI}, engine="LlamaCpp", resources={"cpu": "2500m"})
    plan = plan_for(md, assign(pool(cpu_only=True), engine=Engine.LLAMA_CPP, decided=sizing(None)))
    assert flag(plan.args, "--threads") == "3"
    assert plan.resources["requests"]["cpu"] == "2500m"


# --- TGI ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "precision", "expected"),
    [
        (QuantMethod.AWQ, Precision.INT4, "awq"),
        (QuantMethod.GPTQ, Precision.INT4, "gptq"),
        (QuantMethod.BITS_AND_BYTES, Precision.INT8, "bitsandbytes"),
        (QuantMethod.BITS_AND_BYTES, Precision.INT4, "bitsandbytes-nf4"),
        (QuantMethod.FP8, Precision.FP8, "fp8"),
        (QuantMethod.NONE, Precision.INT8, "eetq"),
        (QuantMethod.NONE, Precision.INT4, "bitsandbytes-nf4"),
        (QuantMethod.NONE, Precision.BF16, None),
    ],
)
def test_tgi_quantize_flag(method: QuantMethod, precision: Precision, expected: str | None) -> None:
    md = manifest(engine="TGI", **quantized(method, precision))
    decided = sizing(L4, precision=precision, method=method)
    plan = plan_for(md, assign(pool(), engine=Engine.TGI, decided=decided))
    assert flag(plan.args, "--quantize") == expected
    # TGI refuses --dtype together with --quantize.
    assert (flag(plan.args, "--dtype") is None) or expected is None


def test_tgi_flags() -> None:
    md = manifest(name="mistral", engine="TGI", serving={"maxContextLength": 4096, "maxConcurrentSequences": 8})
    plan = plan_for(md, assign(pool(gpu=A100), engine=Engine.TGI, decided=sizing(A100, gpus=2, tp=2)))
    assert flag(plan.args, "--model-id").startswith("/model-cache/llama-3-1-8b-instruct-")
    assert flag(plan.args, "--max-input-tokens") == "4095" and flag(plan.args, "--max-total-tokens") == "4096"
    assert flag(plan.args, "--max-concurrent-requests") == "64"
    assert flag(plan.args, "--num-shard") == "2" and flag(plan.args, "--dtype") == "bfloat16"
    assert flag(plan.args, "--cuda-memory-fraction") == "0.90"
    assert plan.node_arch == "amd64"  # the TGI image is published for amd64 only
    assert env_map({"env": list(plan.env)})["HUGGINGFACE_HUB_CACHE"] == "/cache/huggingface/hub"


@pytest.mark.parametrize("uri", ["hf://org/repo/model.gguf"])
def test_tgi_rejects_sources_it_cannot_load(uri: str) -> None:
    with pytest.raises(UnsupportedModelSourceError, match="TGI"):
        plan_for(manifest(model={"uri": uri}, engine="TGI"), assign(pool(), engine=Engine.TGI))


# --- shared behaviour -----------------------------------------------------------------------------


@pytest.mark.parametrize("engine", [Engine.VLLM, Engine.LLAMA_CPP, Engine.TGI])
def test_credentials_are_referenced_never_inlined(engine: Engine) -> None:
    md = manifest(
        model={"uri": "hf://meta-llama/Llama-3.1-8B-Instruct", "credentialsSecret": "hf-token"}, engine=engine.value
    )
    plan = plan_for(md, assign(pool(), engine=engine))
    loader = plan.init_containers[0]
    token = [e for e in loader["env"] if e["name"] == "HF_TOKEN"]
    assert token == [
        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "HF_TOKEN", "optional": False}}}
    ]
    # Only the loader downloads: the engine gets no credentials and runs offline.
    assert not [e for e in plan.env if e["name"] == "HF_TOKEN"]
    assert env_map({"env": list(plan.env)})["HF_HUB_OFFLINE"] == "1"
    without = plan_for(manifest(engine=engine.value), assign(pool(), engine=engine))
    assert not [e for e in without.init_containers[0]["env"] if e["name"] == "HF_TOKEN"]


@pytest.mark.parametrize("engine", [Engine.VLLM, Engine.LLAMA_CPP, Engine.TGI])
def test_writable_dirs_for_a_read_only_root(engine: Engine) -> None:
    plan = plan_for(manifest(engine=engine.value), assign(pool(), engine=engine))
    env = env_map({"env": list(plan.env)})
    mounted = {m["mountPath"] for m in plan.mounts}
    assert {"/cache", "/tmp"} <= mounted
    assert env["HOME"] == "/cache" and env["HF_HOME"].startswith("/cache/") and env["USER"]
    assert plan.read_only_root_filesystem and not plan.needs_root
    # /health on every probe: an --api-key in extraArgs must not make pods unready.
    for probe in (plan.startup_probe, plan.readiness_probe, plan.liveness_probe):
        assert probe["httpGet"] == {"path": "/health", "port": "http", "scheme": "HTTP"}


def test_image_precedence_most_specific_wins() -> None:
    settings = Settings(images={Engine.VLLM: "mirror/vllm:1"})
    pooled = pool(defaults=EngineDefaults(image="pool/vllm:2"))
    assert plan_for(manifest(), assign(pool())).image == "vllm/vllm-openai:v0.30.0"
    assert plan_for(manifest(), assign(pool()), settings).image == "mirror/vllm:1"
    assert plan_for(manifest(), assign(pooled), settings).image == "pool/vllm:2"
    spec_image = manifest(serving={"image": "spec/vllm:3"})
    assert plan_for(spec_image, assign(pooled), settings).image == "spec/vllm:3"
    for engine in (Engine.VLLM, Engine.LLAMA_CPP, Engine.TGI):
        image = plan_for(manifest(engine=engine.value), assign(pool(), engine=engine)).image
        assert ":" in image and not image.endswith(":latest")


def test_overridden_single_arch_image_is_not_pinned_to_amd64() -> None:
    md = manifest(engine="TGI", serving={"image": "registry/tgi-multiarch:1"})
    assert plan_for(md, assign(pool(), engine=Engine.TGI)).node_arch is None


def test_startup_budget_grows_with_the_model_and_is_bounded() -> None:
    small = plan_for(manifest(), assign(pool(), decided=sizing(L4, weights=2 * GB)))
    large = plan_for(manifest(), assign(pool(gpu=H100), decided=sizing(H100, gpus=2, tp=2, weights=140 * GB)))
    huge = plan_for(manifest(), assign(pool(gpu=H100), decided=sizing(H100, gpus=8, tp=8, weights=900 * GB)))
    local = plan_for(
        manifest(model={"uri": "pvc://weights/llama-70b"}),
        assign(pool(gpu=H100), decided=sizing(H100, gpus=2, tp=2, weights=140 * GB)),
    )
    for plan in (small, large, huge, local):
        probe = plan.startup_probe
        assert probe["httpGet"]["path"] == "/health"
        assert probe["periodSeconds"] * probe["failureThreshold"] == plan.startup_seconds
    assert small.startup_seconds < large.startup_seconds < huge.startup_seconds <= MAX_STARTUP_SECONDS
    # The download is the loader's (before the probe starts): it only lengthens the progress deadline.
    assert local.startup_seconds == large.startup_seconds and local.fetch_seconds == 0
    assert small.fetch_seconds < large.fetch_seconds < huge.fetch_seconds
    assert large.liveness_probe["timeoutSeconds"] >= 10 and large.liveness_probe["failureThreshold"] >= 3


def loader_plan(plan: object) -> list[dict[str, str]]:
    import json

    from genai_operator.engines.base import EnginePlan

    assert isinstance(plan, EnginePlan)
    args = plan.init_containers[0]["args"]
    assert args[0] == "--plan"
    loaded: list[dict[str, str]] = json.loads(args[1])
    return loaded


def test_bitsandbytes_download_is_the_16_bit_checkpoint() -> None:
    md = manifest(**quantized(QuantMethod.BITS_AND_BYTES, Precision.INT4))
    decided = sizing(L4, precision=Precision.INT4, method=QuantMethod.BITS_AND_BYTES, weights=4 * GB, bits=4.0)
    bnb = plan_for(md, assign(pool(), decided=decided))
    assert parse_quantity(bnb.resources["requests"]["ephemeral-storage"]) >= 16 * GB


def test_resources_gpu_cpu_and_overrides() -> None:
    gpu_plan = plan_for(manifest(), assign(pool(gpu=A100), decided=sizing(A100, gpus=4, tp=4)))
    assert gpu_plan.resources["limits"]["nvidia.com/gpu"] == "4"
    assert gpu_plan.resources["requests"]["nvidia.com/gpu"] == "4"
    assert "cpu" not in gpu_plan.resources["limits"]  # no CPU throttling of token generation
    cpu_plan = plan_for(
        manifest(model={"uri": GGUF_URI}, engine="LlamaCpp"),
        assign(pool(cpu_only=True), engine=Engine.LLAMA_CPP, decided=sizing(None, weights=9 * GB)),
    )
    assert parse_quantity(cpu_plan.resources["requests"]["memory"]) >= 9 * GB + 2 * GB + 1 * GB
    assert not any("gpu" in k for k in cpu_plan.resources["requests"])
    jetson = plan_for(
        manifest(model={"uri": GGUF_URI}, engine="LlamaCpp"),
        assign(pool(gpu=ORIN), engine=Engine.LLAMA_CPP, decided=sizing(ORIN, weights=30 * GB)),
    )
    assert parse_quantity(jetson.resources["requests"]["memory"]) >= 30 * GB  # unified memory
    amd = plan_for(manifest(), assign(pool(gpu=MI300), decided=sizing(MI300)))
    assert amd.resources["limits"] == {"memory": amd.resources["limits"]["memory"], "amd.com/gpu": "1"}
    override = plan_for(manifest(resources={"cpu": "6", "memory": "48Gi"}), assign(pool()))
    assert override.resources["requests"]["cpu"] == "6"
    assert override.resources["requests"]["memory"] == override.resources["limits"]["memory"] == "48Gi"


@pytest.mark.parametrize(
    ("engine", "queue", "running", "kv"),
    [
        (Engine.VLLM, "vllm:num_requests_waiting", "vllm:num_requests_running", "vllm:kv_cache_usage_perc"),
        (
            Engine.LLAMA_CPP,
            "llamacpp:requests_deferred",
            "llamacpp:requests_processing",
            "llamacpp:kv_cache_usage_ratio",
        ),
        (Engine.TGI, "tgi_queue_size", "tgi_batch_current_size", None),
    ],
)
def test_metric_names(engine: Engine, queue: str, running: str, kv: str | None) -> None:
    metrics = engine_profile(engine).metrics
    assert metrics.name_for(ScalingMetric.QUEUE_DEPTH) == queue
    assert metrics.name_for(ScalingMetric.RUNNING_REQUESTS) == running
    assert metrics.name_for(ScalingMetric.KV_CACHE_USAGE) == kv
    assert metrics.name_for(ScalingMetric.CPU) is None
    assert metrics.path == "/metrics" and metrics.port == "http"


def test_registry_refuses_auto() -> None:
    with pytest.raises(ValueError, match="not resolved"):
        engine_profile(Engine.AUTO)
    assert [engine_profile(e).label for e in (Engine.VLLM, Engine.LLAMA_CPP, Engine.TGI)] == [
        "vllm",
        "llama-cpp",
        "tgi",
    ]


@pytest.mark.parametrize(
    ("uri", "repo", "path", "revision", "file", "downloads"),
    [
        ("hf://org/model", "org/model", "org/model", None, None, True),
        ("hf://org/model@v2", "org/model", "org/model", "v2", None, True),
        ("hf://org/repo/sub/f.gguf@main", "org/repo", "org/repo", "main", "sub/f.gguf", True),
        ("s3://bucket/path", "s3://bucket/path", "s3://bucket/path", None, None, True),
        ("pvc://claim/dir/model", "claim", "/model-source/dir/model", None, None, False),
        ("pvc://claim", "claim", "/model-source", None, None, False),
        (
            "oci://registry.example/models/llama:1",
            "registry.example/models/llama:1",
            "oci://registry.example/models/llama:1",
            None,
            None,
            True,
        ),
        ("file:///srv/models/x", "/srv/models/x", "/srv/models/x", None, None, False),
    ],
)
def test_parse_model_uri(
    uri: str, repo: str, path: str, revision: str | None, file: str | None, downloads: bool
) -> None:
    location = parse_model_uri(uri)
    assert (location.repo, location.path, location.revision, location.file, location.downloads) == (
        repo,
        path,
        revision,
        file,
        downloads,
    )
    for mount in location.mounts:
        assert mount["readOnly"] is True


def test_oci_source_as_an_image_volume_uses_the_secret_as_a_pull_secret() -> None:
    md = manifest(model={"uri": "oci://registry.example/llama:1", "credentialsSecret": "pull"}, engine="VLLM")
    plan = plan_for(md, assign(pool()), Settings(oci_models="ImageVolume"))
    assert {
        "name": "model-source",
        "image": {"reference": "registry.example/llama:1", "pullPolicy": "IfNotPresent"},
    } in plan.volumes
    assert plan.image_pull_secrets == ({"name": "pull"},)
    assert "ephemeral-storage" in plan.resources["requests"]


def test_oci_source_pulled_by_the_loader_gets_the_secret_as_an_auth_file_only() -> None:
    md = manifest(model={"uri": "oci://registry.example/llama:1", "credentialsSecret": "pull"}, engine="VLLM")
    plan = plan_for(md, assign(pool()))
    assert not plan.image_pull_secrets and not any("image" in v for v in plan.volumes)
    auth = next(v for v in plan.volumes if v["name"] == "registry-auth")
    assert auth["secret"] == {
        "secretName": "pull",
        "optional": False,
        "items": [{"key": ".dockerconfigjson", "path": "config.json"}],
    }
    init = plan.init_containers[0]
    assert {"name": "REGISTRY_AUTH_FILE", "value": "/var/run/secrets/genaiops.dev/registry/config.json"} in init["env"]
    assert any(m["name"] == "registry-auth" and m["readOnly"] for m in init["volumeMounts"])
    assert "registry-auth" not in [m["name"] for m in plan.mounts]  # the engine never sees the credentials


def test_a_pulled_oci_model_gets_room_to_unpack_an_image_layer() -> None:
    def empty_dir_gib(uri: str, settings: Settings | None = None) -> int:
        md = manifest(model={"uri": uri, "parameters": "8B"}, engine="VLLM")
        plan = plan_for(md, assign(pool()), settings)
        cache = next(v for v in plan.volumes if v["name"] == "model-cache")
        return int(cache["emptyDir"]["sizeLimit"].removesuffix("Gi"))

    s3 = empty_dir_gib("s3://models/llama-3.1-8b")
    pulled = empty_dir_gib("oci://registry.example/models/llama-3.1-8b:v1")
    mounted = empty_dir_gib("oci://registry.example/models/llama-3.1-8b:v1", Settings(oci_models="ImageVolume"))
    assert pulled >= 2 * s3 - 2  # the weights, and the layer they come in while it is unpacked
    assert mounted == 1  # nothing fetched: the kubelet mounts the image
