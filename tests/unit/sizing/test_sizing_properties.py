"""Property tests (Hypothesis) of the sizing layer: estimates grow with context and concurrency, lower
precision never needs more memory, and every fitting decision respects the per-GPU budget, the head
divisibility and the Jetson one-per-replica rule."""

from __future__ import annotations

import itertools
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from genai_operator.api.enums import Engine, KvCacheDtype, Precision, QuantMethod
from genai_operator.formats.quantity import GIB
from genai_operator.sizing.estimator import estimate_memory, size_for_cpu, size_model
from genai_operator.sizing.fitting import heads_problem
from genai_operator.sizing.gpu_catalog import all_gpus
from genai_operator.sizing.memory import estimate_cpu_memory, model_shape, per_device_bytes
from genai_operator.sizing.model_catalog import all_models
from genai_operator.sizing.overhead import cpu_budget_bytes, gpu_budget_bytes
from genai_operator.sizing.types import GpuType, SizingRequest

# Precisions from the widest to the narrowest, per engine (llama.cpp has no FP8 weights).
WIDEST_FIRST = {
    Engine.VLLM: (Precision.FP32, Precision.BF16, Precision.FP8, Precision.INT8, Precision.INT4),
    Engine.TGI: (Precision.FP32, Precision.BF16, Precision.FP8, Precision.INT8, Precision.INT4),
    Engine.LLAMA_CPP: (Precision.FP32, Precision.BF16, Precision.INT8, Precision.INT4),
}

engines = st.sampled_from([Engine.VLLM, Engine.TGI, Engine.LLAMA_CPP])


@st.composite
def requests(draw: st.DrawFn, precision: st.SearchStrategy[Precision] | None = None) -> SizingRequest:
    model = draw(st.sampled_from(all_models()))
    engine = draw(engines)
    chosen = draw(precision) if precision is not None else Precision.BF16
    if engine is Engine.LLAMA_CPP and chosen is Precision.FP8:
        chosen = Precision.INT8
    return SizingRequest(
        parameters=model.parameters,
        shape=model,
        precision=chosen,
        method=QuantMethod.NONE,
        gguf_type=None,
        kv_cache=draw(st.sampled_from(list(KvCacheDtype))),
        max_context=draw(st.integers(1, 131072)),
        max_sequences=draw(st.integers(1, 256)),
        gpu_memory_utilization_percent=draw(st.integers(50, 100)),
        engine=engine,
        gpu_count=draw(st.sampled_from([None, None, None, 1, 2, 4, 8])),
    )


precisions = st.sampled_from([Precision.AUTO, Precision.BF16, Precision.FP8, Precision.INT8, Precision.INT4])


def valid_tp(req: SizingRequest, tensor_parallel: int) -> bool:
    return req.engine is Engine.LLAMA_CPP or not heads_problem(model_shape(req), tensor_parallel)


@settings(max_examples=200, deadline=None)
@given(requests(), st.integers(1, 131072), st.integers(1, 256), st.sampled_from([1, 2, 4, 8]))
def test_estimates_grow_with_context_and_concurrency(
    req: SizingRequest, context: int, sequences: int, tensor_parallel: int
) -> None:
    if not valid_tp(req, tensor_parallel):
        tensor_parallel = 1
    base = estimate_memory(req, Precision.BF16, tensor_parallel)
    longer = estimate_memory(replace(req, max_context=max(context, req.max_context)), Precision.BF16, tensor_parallel)
    busier = estimate_memory(
        replace(req, max_sequences=max(sequences, req.max_sequences)), Precision.BF16, tensor_parallel
    )
    assert longer.total_bytes >= base.total_bytes and busier.total_bytes >= base.total_bytes
    assert longer.weights_bytes == base.weights_bytes == busier.weights_bytes
    assert base.kv_cache_bytes >= base.kv_bytes_per_token * req.max_context * req.max_sequences
    cpu_base = estimate_cpu_memory(req, Precision.BF16)
    cpu_longer = estimate_cpu_memory(replace(req, max_context=max(context, req.max_context)), Precision.BF16)
    assert cpu_longer.total_bytes >= cpu_base.total_bytes


@settings(max_examples=200, deadline=None)
@given(requests(), st.sampled_from([1, 2, 4, 8]))
def test_lower_precision_never_needs_more_memory(req: SizingRequest, tensor_parallel: int) -> None:
    if not valid_tp(req, tensor_parallel):
        tensor_parallel = 1
    totals = [estimate_memory(req, p, tensor_parallel) for p in WIDEST_FIRST[req.engine]]
    for wider, narrower in itertools.pairwise(totals):
        assert narrower.weights_bytes <= wider.weights_bytes
        assert narrower.total_bytes <= wider.total_bytes
        assert narrower.bits_per_weight <= wider.bits_per_weight


@settings(max_examples=300, deadline=None)
@given(requests(precisions), st.lists(st.sampled_from(all_gpus()), min_size=1, max_size=4, unique=True))
def test_fitting_decisions_respect_budget_heads_and_jetson(req: SizingRequest, allowed: list[GpuType]) -> None:
    decision = size_model(req, allowed)
    if not decision.fits:
        assert decision.reasons and all(reason.strip() for reason in decision.reasons)
        assert decision.gpu is None and decision.gpus_per_replica == 0
        return
    gpu = decision.gpu
    assert gpu is not None and gpu in allowed
    assert decision.reasons == ()
    need = per_device_bytes(decision.estimate, decision.gpus_per_replica)
    assert need <= gpu_budget_bytes(gpu, req.engine, req.gpu_memory_utilization_percent)
    if req.gpu_count is not None:
        assert decision.gpus_per_replica == req.gpu_count
    else:
        assert decision.gpus_per_replica in (1, 2, 4, 8)
    if gpu.unified_memory:
        assert decision.gpus_per_replica == 1
    if req.engine is Engine.LLAMA_CPP:
        assert decision.tensor_parallel == 1
    else:
        assert decision.tensor_parallel == decision.gpus_per_replica
        assert not heads_problem(model_shape(req), decision.tensor_parallel)
    if decision.estimate.precision is Precision.FP8:
        assert gpu.supports_fp8
    if req.precision is not Precision.AUTO:
        assert decision.estimate.precision is req.precision


@settings(max_examples=150, deadline=None)
@given(requests(precisions), st.lists(st.sampled_from(all_gpus()), min_size=1, max_size=3, unique=True))
def test_fewer_sequences_never_turn_a_fit_into_a_miss(req: SizingRequest, allowed: list[GpuType]) -> None:
    decision = size_model(req, allowed)
    smaller = size_model(replace(req, max_sequences=max(1, req.max_sequences // 2)), allowed)
    if decision.fits:
        assert smaller.fits


@settings(max_examples=150, deadline=None)
@given(requests(precisions), st.integers(1, 512))
def test_cpu_decisions_respect_the_node(req: SizingRequest, memory_gib: int) -> None:
    req = replace(req, engine=Engine.LLAMA_CPP)
    decision = size_for_cpu(req, memory_gib * GIB)
    assert (decision.gpu, decision.gpus_per_replica, decision.tensor_parallel) == (None, 0, 1)
    if decision.fits:
        assert decision.estimate.total_bytes <= cpu_budget_bytes(memory_gib * GIB)
        assert decision.estimate.method is QuantMethod.GGUF
    else:
        assert decision.reasons
