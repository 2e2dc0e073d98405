"""The SGLang and TEI engine profiles: SGLang's --quantization and --dtype per precision and GPU, its serving
flags (--context-length, --max-running-requests, --mem-fraction-static from sizing, --tp-size, metrics, LoRA),
image and probes; TEI's batch flags, dtype per device, the image per GPU type and CPU, the amd64 pin, and
both engines refusing what they cannot serve."""

from __future__ import annotations

from dataclasses import replace

import pytest

from genai_operator.api.enums import Engine, Precision, QuantMethod, ScalingMetric
from genai_operator.engines import UnsupportedModelSourceError, engine_profile
from genai_operator.engines.sglang import IMAGE as SGLANG_IMAGE
from genai_operator.engines.tei import IMAGE_CPU as TEI_CPU
from genai_operator.planning.plan import sizing_request
from genai_operator.sizing.encoders import estimate_encoder, size_encoder_cpu
from genai_operator.sizing.types import GpuType, SizingDecision, SizingRequest
from support.render_fixtures import A100, H100, L4, T4, assign, flag, manifest, plan_for, pool, sizing

EMBED = {"model": {"uri": "hf://BAAI/bge-small-en-v1.5"}, "task": "TextEmbedding"}


def sglang(gpu: GpuType = L4, **spec: object) -> tuple[str, ...]:
    md = manifest(engine="SGLang", **spec)
    quant = md.spec.quantization
    precision = Precision.BF16 if quant.precision == Precision.AUTO else quant.precision
    decided = sizing(gpu, precision=precision, method=quant.method)
    return plan_for(md, assign(pool(gpu=gpu), engine=Engine.SGLANG, decided=decided)).args


@pytest.mark.parametrize(
    ("method", "precision", "gpu", "expected"),
    [
        (QuantMethod.AWQ, Precision.INT4, L4, "awq_marlin"),
        (QuantMethod.AWQ, Precision.INT4, T4, "awq"),
        (QuantMethod.GPTQ, Precision.INT4, A100, "gptq_marlin"),
        (QuantMethod.GPTQ, Precision.INT8, T4, "gptq"),
        (QuantMethod.BITS_AND_BYTES, Precision.INT4, L4, "bitsandbytes"),
        (QuantMethod.FP8, Precision.FP8, H100, "fp8"),
        (QuantMethod.NONE, Precision.FP8, L4, "fp8"),
        (QuantMethod.NONE, Precision.INT8, H100, "fp8"),
        (QuantMethod.NONE, Precision.INT8, A100, "bitsandbytes"),  # no FP8 on Ampere
        (QuantMethod.NONE, Precision.INT4, L4, "bitsandbytes"),
        (QuantMethod.NONE, Precision.BF16, L4, None),
    ],
)
def test_sglang_quantization_per_precision(
    method: QuantMethod, precision: Precision, gpu: GpuType, expected: str | None
) -> None:
    args = sglang(gpu, quantization={"method": method.value, "precision": precision.value})
    assert flag(args, "--quantization") == expected


@pytest.mark.parametrize(
    ("precision", "gpu", "expected"),
    [(Precision.BF16, L4, "bfloat16"), (Precision.BF16, T4, "float16"), (Precision.FP32, A100, "float32")],
)
def test_sglang_dtype(precision: Precision, gpu: GpuType, expected: str) -> None:
    assert flag(sglang(gpu, quantization={"precision": precision.value}), "--dtype") == expected


def test_sglang_serving_flags_and_metrics() -> None:
    args = sglang(serving={"maxContextLength": 16384, "maxConcurrentSequences": 24, "port": 8080})
    assert (flag(args, "--model-path") or "").startswith("/model-cache/llama-3-1-8b-instruct-")
    assert flag(args, "--context-length") == "16384"
    assert flag(args, "--max-running-requests") == "24"
    assert flag(args, "--host") == "0.0.0.0" and flag(args, "--port") == "8080"
    assert "--enable-metrics" in args and "--tp-size" not in args
    metrics = engine_profile(Engine.SGLANG).metrics
    assert metrics.name_for(ScalingMetric.QUEUE_DEPTH) == "sglang:num_queue_reqs"
    assert metrics.name_for(ScalingMetric.RUNNING_REQUESTS) == "sglang:num_running_reqs"
    assert metrics.name_for(ScalingMetric.KV_CACHE_USAGE) == "sglang:token_usage"


def test_sglang_static_fraction_leaves_the_sized_overhead_outside() -> None:
    md = manifest(engine="SGLang", serving={"gpuMemoryUtilizationPercent": 90})
    light = sizing(L4)
    heavy = replace(light, estimate=replace(light.estimate, overhead_bytes=4 * 2**30))
    low = flag(plan_for(md, assign(pool(), engine=Engine.SGLANG, decided=heavy)).args, "--mem-fraction-static")
    high = flag(plan_for(md, assign(pool(), engine=Engine.SGLANG, decided=light)).args, "--mem-fraction-static")
    assert low is not None and high is not None
    assert 0.3 <= float(low) < float(high) <= 0.90


def test_sglang_tensor_parallel_lora_and_image() -> None:
    md = manifest(engine="SGLang", adapters=[{"name": "sql", "uri": "hf://acme/sql-lora"}])
    plan = plan_for(md, assign(pool(gpu=H100), engine=Engine.SGLANG, decided=sizing(H100, gpus=2, tp=2)))
    assert flag(plan.args, "--tp-size") == "2"
    assert "--enable-lora" in plan.args and flag(plan.args, "--max-lora-rank") == "16"
    assert plan.args[plan.args.index("--lora-paths") + 1].startswith("sql=/model-cache/")
    assert plan.image == SGLANG_IMAGE and plan.node_arch == "amd64"
    assert plan.command == ("python3", "-m", "sglang.launch_server")
    assert plan.readiness_probe["httpGet"]["path"] == "/health"


def test_sglang_refuses_cpu_pools() -> None:
    md = manifest(engine="SGLang")
    with pytest.raises(UnsupportedModelSourceError, match="SGLang needs GPUs"):
        plan_for(md, assign(pool(gpu=None, cpu_only=True), engine=Engine.SGLANG, decided=sizing(None)))


def _encoder_request(**overrides: object) -> SizingRequest:
    md = manifest(**{**EMBED, **overrides})
    return sizing_request(md.spec, pool(), Engine.TEI)


def test_tei_on_cpu_args_image_and_arch() -> None:
    md = manifest(**EMBED, serving={"maxConcurrentSequences": 16})
    decided = size_encoder_cpu(_encoder_request(serving={"maxConcurrentSequences": 16}), 16 * 2**30)
    plan = plan_for(md, assign(pool(gpu=None, cpu_only=True), engine=Engine.TEI, decided=decided))
    assert plan.image == TEI_CPU and plan.node_arch == "amd64"
    assert flag(plan.args, "--max-batch-tokens") == str(512 * 16)
    assert flag(plan.args, "--max-client-batch-size") == "16"
    assert flag(plan.args, "--max-concurrent-requests") == "128"
    assert "--dtype" not in plan.args and "--auto-truncate" in plan.args
    assert flag(plan.args, "--served-model-name") == "llama"
    assert "nvidia.com/gpu" not in plan.resources["requests"]


@pytest.mark.parametrize(("gpu", "tag"), [(L4, "89-1.8"), (T4, "turing-1.8"), (A100, "1.8"), (H100, "hopper-1.8")])
def test_tei_image_follows_the_gpu(gpu: GpuType, tag: str) -> None:
    md = manifest(**EMBED)
    decided = SizingDecision(True, estimate_encoder(_encoder_request(), cpu=False), gpu, 1, 1, batch_sequences=32)
    plan = plan_for(md, assign(pool(gpu=gpu), engine=Engine.TEI, decided=decided))
    assert plan.image == f"ghcr.io/huggingface/text-embeddings-inference:{tag}"
    assert flag(plan.args, "--dtype") == "float16"
    assert plan.resources["limits"]["nvidia.com/gpu"] == "1"
    assert plan.resources["requests"]["memory"] == "3Gi"  # an encoder needs no 12 GiB of host memory
    metrics = engine_profile(Engine.TEI).metrics
    assert (metrics.queue_depth, metrics.running_requests, metrics.kv_cache_usage) == (
        "te_queue_size",
        "te_batch_current_size",
        None,
    )


def test_tei_refuses_text_generation() -> None:
    md = manifest()  # TextGeneration by default
    with pytest.raises(UnsupportedModelSourceError, match=r"set spec\.task to TextEmbedding or Reranking"):
        plan_for(md, assign(pool(), engine=Engine.TEI))
