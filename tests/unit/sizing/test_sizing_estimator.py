"""Sizing decisions: GPU type and count per replica, tensor parallel and head divisibility, explicit
GPU counts, precision Auto, Jetson limits, CPU-only nodes, and the reasons given when nothing fits."""

from __future__ import annotations

import pytest

from genai_operator.api.enums import Engine, GgufType, KvCacheDtype, Precision, QuantMethod
from genai_operator.formats.quantity import GIB
from genai_operator.sizing.estimator import size_for_cpu, size_model
from genai_operator.sizing.gpu_catalog import gpu_by_key
from genai_operator.sizing.memory import per_device_bytes
from genai_operator.sizing.model_catalog import model_by_key
from genai_operator.sizing.model_shapes import shape_from_parameters
from genai_operator.sizing.overhead import gpu_budget_bytes
from genai_operator.sizing.types import GpuType, SizingDecision, SizingRequest


def request(
    key: str,
    precision: Precision = Precision.BF16,
    method: QuantMethod = QuantMethod.NONE,
    *,
    context: int = 8192,
    sequences: int = 4,
    engine: Engine = Engine.VLLM,
    count: int | None = None,
    gguf: GgufType | None = None,
) -> SizingRequest:
    model = model_by_key(key)
    assert model is not None, key
    return SizingRequest(
        parameters=model.parameters,
        shape=model,
        precision=precision,
        method=method,
        gguf_type=gguf,
        kv_cache=KvCacheDtype.AUTO,
        max_context=context,
        max_sequences=sequences,
        gpu_memory_utilization_percent=90,
        engine=engine,
        gpu_count=count,
    )


def gpus(*keys: str) -> list[GpuType]:
    found = [gpu_by_key(key) for key in keys]
    assert all(found)
    return [gpu for gpu in found if gpu is not None]


def placed(decision: SizingDecision) -> tuple[str, int]:
    assert decision.fits, decision.reasons
    assert decision.gpu is not None
    return decision.gpu.key, decision.gpus_per_replica


def assert_within_budget(decision: SizingDecision, req: SizingRequest) -> None:
    assert decision.gpu is not None
    need = per_device_bytes(decision.estimate, decision.gpus_per_replica)
    assert need <= gpu_budget_bytes(decision.gpu, req.engine, req.gpu_memory_utilization_percent)


@pytest.mark.parametrize(
    ("req", "allowed", "expected"),
    [
        # Llama-3.1-8B BF16 (15 GiB of weights) with 4 x 8K tokens of KV fits one L4.
        (request("llama-3.1-8b"), ("nvidia-l4",), ("nvidia-l4", 1)),
        # 70B BF16 (131 GiB of weights, 40 GiB KV): 4x H100 or 2x H200.
        (request("llama-3.1-70b", sequences=16), ("nvidia-h100-80gb",), ("nvidia-h100-80gb", 4)),
        (request("llama-3.1-70b", sequences=16), ("nvidia-h200",), ("nvidia-h200", 2)),
        (request("llama-3.1-70b", sequences=16), ("nvidia-a100-80gb",), ("nvidia-a100-80gb", 4)),
        # 70B AWQ (37 GiB) on L4s: two hold the weights but leave ~1.5K tokens of KV; 4 x 8K needs four.
        (request("llama-3.1-70b", Precision.INT4, QuantMethod.AWQ, context=1024, sequences=1), ("nvidia-l4",),
         ("nvidia-l4", 2)),
        (request("llama-3.1-70b", Precision.INT4, QuantMethod.AWQ), ("nvidia-l4",), ("nvidia-l4", 4)),
        # Mixtral keeps all eight experts resident: 87 GiB at BF16.
        (request("mixtral-8x7b"), ("nvidia-h100-80gb",), ("nvidia-h100-80gb", 2)),
        (request("llama-3.1-405b", Precision.FP8, sequences=16), ("nvidia-h200",), ("nvidia-h200", 4)),
        (request("qwen2.5-72b", Precision.INT4, QuantMethod.GPTQ, sequences=8), ("nvidia-l40s",),
         ("nvidia-l40s", 2)),
        (request("llama-3.2-3b", engine=Engine.TGI), ("nvidia-t4",), ("nvidia-t4", 1)),
    ],
)  # fmt: skip
def test_gpu_choice(req: SizingRequest, allowed: tuple[str, ...], expected: tuple[str, int]) -> None:
    decision = size_model(req, gpus(*allowed))
    assert placed(decision) == expected
    assert decision.tensor_parallel == decision.gpus_per_replica
    assert decision.reasons == ()
    assert_within_budget(decision, req)


def test_caller_order_decides_between_gpu_types() -> None:
    req = request("llama-3.1-70b", sequences=2)
    assert placed(size_model(req, gpus("nvidia-l4", "nvidia-h100-80gb"))) == ("nvidia-l4", 8)
    assert placed(size_model(req, gpus("nvidia-h100-80gb", "nvidia-l4"))) == ("nvidia-h100-80gb", 2)


def test_first_type_that_fits_wins_even_if_a_later_one_needs_fewer_gpus() -> None:
    req = request("llama-3.1-8b", sequences=16)
    assert placed(size_model(req, gpus("nvidia-t4", "nvidia-h100-80gb"))) == ("nvidia-t4", 4)
    # Types that cannot hold it at all are passed over.
    req = request("llama-3.1-405b", Precision.INT4, QuantMethod.AWQ)
    assert placed(size_model(req, gpus("nvidia-t4", "nvidia-h100-80gb"))) == ("nvidia-h100-80gb", 4)


@pytest.mark.parametrize(
    ("key", "heads", "skipped"),
    [("qwen2.5-7b", 28, 8), ("qwen2.5-0.5b", 14, 4), ("qwen2.5-1.5b", 12, 8)],
)
def test_tensor_parallel_must_divide_the_attention_heads(key: str, heads: int, skipped: int) -> None:
    model = model_by_key(key)
    assert model is not None and model.attention_heads == heads
    decision = size_model(request(key, count=skipped), gpus("nvidia-t4"))
    assert not decision.fits
    (reason,) = decision.reasons
    assert f"cannot be split {skipped} ways ({skipped} does not divide the {heads} attention heads)" in reason
    assert "spec.resources.gpu.count" in reason


def test_auto_count_skips_sizes_that_do_not_divide_the_heads() -> None:
    # Qwen2.5-7B at 32K x 32 (56 GiB of KV) needs more than four T4s, but 8 does not divide its 28 heads.
    decision = size_model(request("qwen2.5-7b", context=32768, sequences=32), gpus("nvidia-t4", "nvidia-l40s"))
    assert placed(decision) == ("nvidia-l40s", 2)


def test_explicit_gpu_count_is_honoured() -> None:
    req = request("llama-3.1-8b", count=2)
    decision = size_model(req, gpus("nvidia-h100-80gb"))
    assert placed(decision) == ("nvidia-h100-80gb", 2)
    assert decision.tensor_parallel == 2
    assert (
        decision.estimate.overhead_bytes
        > size_model(request("llama-3.1-8b"), gpus("nvidia-h100-80gb")).estimate.overhead_bytes
    )


def test_explicit_gpu_count_that_is_too_small_says_so() -> None:
    decision = size_model(request("llama-3.1-70b", sequences=16, count=2), gpus("nvidia-h100-80gb"))
    assert not decision.fits and decision.gpu is None and decision.gpus_per_replica == 0
    (reason,) = decision.reasons
    assert "with the requested 2" in reason
    assert "spec.resources.gpu.count 4: BF16 on 4x nvidia-h100-80gb" in reason


@pytest.mark.parametrize(
    ("req", "allowed", "precision", "gguf", "expected"),
    [
        (request("llama-3.1-8b", Precision.AUTO, sequences=16), ("nvidia-h100-80gb",), Precision.BF16, None,
         ("nvidia-h100-80gb", 1)),
        # An edge Jetson runs llama.cpp: F16 and Q8_0 do not fit the Orin NX, Q4_K_M does.
        (request("llama-3.1-8b", Precision.AUTO, engine=Engine.LLAMA_CPP), ("nvidia-jetson-orin-nx-16gb",),
         Precision.INT4, GgufType.Q4_K_M, ("nvidia-jetson-orin-nx-16gb", 1)),
        # vLLM on the AGX Orin 32GB: BF16 plus 8 GiB of KV is too much, FP8 has no hardware, INT8 fits.
        (request("llama-3.1-8b", Precision.AUTO, sequences=8), ("nvidia-jetson-agx-orin-32gb",),
         Precision.INT8, None, ("nvidia-jetson-agx-orin-32gb", 1)),
        # Auto takes the highest precision that fits some count of an allowed type: BF16 at 8 x 8K
        # on 2x L4 rather than FP8 on one.
        (request("llama-3.1-8b", Precision.AUTO, sequences=8), ("nvidia-l4",), Precision.BF16, None,
         ("nvidia-l4", 2)),
        (request("llama-3.1-70b", Precision.AUTO, sequences=16), ("nvidia-l4",), Precision.FP8, None,
         ("nvidia-l4", 8)),
        # No FP8 on Ampere: Auto goes from BF16 straight to INT8 on A10G.
        (request("llama-3.1-70b", Precision.AUTO, sequences=16), ("nvidia-a10g",), Precision.INT8, None,
         ("nvidia-a10g", 8)),
        (request("llama-3.1-8b", Precision.AUTO, engine=Engine.LLAMA_CPP), ("nvidia-l4",), Precision.BF16,
         GgufType.F16, ("nvidia-l4", 1)),
    ],
)  # fmt: skip
def test_auto_precision(
    req: SizingRequest,
    allowed: tuple[str, ...],
    precision: Precision,
    gguf: GgufType | None,
    expected: tuple[str, int],
) -> None:
    decision = size_model(req, gpus(*allowed))
    assert placed(decision) == expected
    assert decision.estimate.precision is precision
    assert decision.estimate.gguf_type is gguf
    assert_within_budget(decision, req)


def test_auto_with_gguf_method_sizes_gguf_types() -> None:
    # On one L4: F16 (15 GiB) plus 8 GiB of KV does not fit, Q8_0 (8 GiB) does.
    req = request("llama-3.1-8b", Precision.AUTO, QuantMethod.GGUF, engine=Engine.LLAMA_CPP, sequences=8, count=1)
    decision = size_model(req, gpus("nvidia-l4"))
    assert decision.fits and decision.estimate.method is QuantMethod.GGUF
    assert decision.estimate.gguf_type is GgufType.Q8_0
    # With the count left to Auto, llama.cpp splits F16 across two L4s instead.
    two = size_model(
        request("llama-3.1-8b", Precision.AUTO, QuantMethod.GGUF, engine=Engine.LLAMA_CPP, sequences=8),
        gpus("nvidia-l4"),
    )
    assert placed(two) == ("nvidia-l4", 2) and two.estimate.gguf_type is GgufType.F16


def test_llama_cpp_splits_layers_so_heads_do_not_limit_it() -> None:
    req = request("qwen2.5-7b", context=32768, sequences=32, engine=Engine.LLAMA_CPP)
    decision = size_model(req, gpus("nvidia-t4"))
    assert placed(decision) == ("nvidia-t4", 8)
    assert decision.tensor_parallel == 1  # layer split, not tensor parallel


def test_jetson_never_takes_more_than_one_per_replica() -> None:
    decision = size_model(request("llama-3.1-70b", sequences=16), gpus("nvidia-jetson-agx-orin-64gb"))
    assert not decision.fits
    assert "runs one per replica" in decision.reasons[0]
    explicit = size_model(request("llama-3.1-8b", count=2), gpus("nvidia-jetson-agx-orin-64gb"))
    assert not explicit.fits
    assert "one per replica, not 2" in explicit.reasons[0]
    assert "spec.resources.gpu.count 1" in explicit.reasons[0]


def test_not_fitting_names_the_need_the_largest_gpu_and_a_suggestion() -> None:
    req = request("llama-3.1-70b", sequences=16)
    decision = size_model(req, gpus("nvidia-t4", "nvidia-l4", "nvidia-a10g"))
    assert not decision.fits
    assert decision.gpu is None and decision.gpus_per_replica == 0 and decision.tensor_parallel == 1
    (reason,) = decision.reasons
    assert reason.startswith("llama-3.1-70b at BF16 needs 174.7 GiB per replica (weights 131.4 GiB, KV cache 40.0 GiB")
    # L4 is the largest tried (23034 MiB against the A10G's 23028 MiB).
    assert "The largest GPU tried, nvidia-l4 (22.5 GiB usable, 20.2 GiB for the engine)" in reason
    assert "even split 8 ways" in reason
    assert "Would fit: FP8 on 8x nvidia-l4" in reason
    assert "BF16 on 2x nvidia-h200 (a GPU type not allowed here)" in reason
    assert "spec.serving.maxConcurrentSequences 8 (instead of 16) at BF16 on 8x nvidia-l4" in reason
    # The estimate is the model's own, for one replica at the precision asked for.
    assert decision.estimate.precision is Precision.BF16
    assert decision.estimate.weights_bytes == pytest.approx(131.4 * GIB, rel=0.001)


def test_auto_that_fits_nowhere_reports_the_lowest_precision() -> None:
    decision = size_model(request("llama-3.1-405b", Precision.AUTO, sequences=16), gpus("nvidia-l4"))
    assert not decision.fits
    assert decision.estimate.precision is Precision.INT4
    (reason,) = decision.reasons
    assert reason.startswith("llama-3.1-405b even at INT4 needs")
    assert "nvidia-l4" in reason and "on 8x nvidia-h200 (a GPU type not allowed here)" in reason


def test_fp8_needs_fp8_hardware() -> None:
    decision = size_model(request("llama-3.1-8b", Precision.FP8, sequences=16), gpus("nvidia-a100-80gb"))
    assert not decision.fits
    (reason,) = decision.reasons
    assert "nvidia-a100-80gb, has no FP8 support" in reason
    assert "INT8 on 1x nvidia-a100-80gb" in reason
    assert placed(size_model(request("llama-3.1-8b", Precision.FP8), gpus("nvidia-l4"))) == ("nvidia-l4", 1)


@pytest.mark.parametrize(
    ("req", "message"),
    [
        (request("llama-3.1-8b", Precision.BF16, QuantMethod.AWQ), "AWQ checkpoints are INT4, not BF16"),
        (request("llama-3.1-8b", Precision.INT4, QuantMethod.AWQ, engine=Engine.LLAMA_CPP),
         "llama.cpp loads GGUF files only"),
        (request("llama-3.1-8b", Precision.FP8, engine=Engine.LLAMA_CPP), "use INT8 (GGUF Q8_0) instead"),
        (request("llama-3.1-8b", sequences=0), "must be at least 1"),
    ],
)  # fmt: skip
def test_inconsistent_specs_are_refused_with_a_reason(req: SizingRequest, message: str) -> None:
    decision = size_model(req, gpus("nvidia-l4"))
    assert not decision.fits
    assert message in decision.reasons[0]
    assert decision.estimate.total_bytes > 0


def test_no_allowed_gpus() -> None:
    decision = size_model(request("llama-3.1-8b"), [])
    assert not decision.fits and "No GPU types" in decision.reasons[0]


def test_unknown_model_is_sized_from_its_parameter_count() -> None:
    parameters = 70_600_000_000
    req = SizingRequest(
        parameters=parameters,
        shape=None,
        precision=Precision.BF16,
        method=QuantMethod.NONE,
        gguf_type=None,
        kv_cache=KvCacheDtype.AUTO,
        max_context=8192,
        max_sequences=16,
        gpu_memory_utilization_percent=90,
        engine=Engine.AUTO,  # resolves to vLLM on GPUs
    )
    decision = size_model(req, gpus("nvidia-h100-80gb"))
    assert placed(decision) == ("nvidia-h100-80gb", 4)
    assert decision.estimate.kv_bytes_per_token == 2 * shape_from_parameters(parameters).layers * 8 * 128 * 2
    small = size_model(req, gpus("nvidia-l4"))
    assert small.reasons[0].startswith("A 70.6B-parameter model at BF16 needs")


@pytest.mark.parametrize(
    ("memory_gib", "precision", "gguf"),
    [
        (32, Precision.BF16, GgufType.F16),
        (16, Precision.INT8, GgufType.Q8_0),
        (12, Precision.INT4, GgufType.Q4_K_M),
    ],
)
def test_size_for_cpu_picks_the_highest_gguf_that_fits(memory_gib: int, precision: Precision, gguf: GgufType) -> None:
    decision = size_for_cpu(request("llama-3.1-8b", Precision.AUTO, engine=Engine.LLAMA_CPP), memory_gib * GIB)
    assert decision.fits, decision.reasons
    assert (decision.gpu, decision.gpus_per_replica, decision.tensor_parallel) == (None, 0, 1)
    assert (decision.estimate.precision, decision.estimate.gguf_type) == (precision, gguf)


def test_size_for_cpu_explains_what_would_fit() -> None:
    decision = size_for_cpu(request("llama-3.1-8b", Precision.AUTO, engine=Engine.LLAMA_CPP), 8 * GIB)
    assert not decision.fits
    (reason,) = decision.reasons
    assert reason.startswith("llama-3.1-8b even at GGUF Q4_K_M needs 9.3 GiB per replica")
    assert "The node offers 8.0 GiB, 7.0 GiB after the reserve" in reason
    assert "spec.serving.maxConcurrentSequences 1 (instead of 4) at GGUF Q4_K_M" in reason
    explicit = size_for_cpu(request("llama-3.1-8b", engine=Engine.LLAMA_CPP), 16 * GIB)
    assert "Would fit: GGUF Q8_0 (12.7 GiB)." in explicit.reasons[0]


def test_size_for_cpu_refuses_gpu_engines() -> None:
    decision = size_for_cpu(request("llama-3.1-8b", Precision.AUTO, engine=Engine.VLLM), 64 * GIB)
    assert not decision.fits
    assert "Engine VLLM needs GPUs" in decision.reasons[0]
    assert size_for_cpu(request("llama-3.2-1b", Precision.AUTO, engine=Engine.AUTO), 8 * GIB).fits
