"""The sizing decision: which precision, which GPU type and how many GPUs one replica takes.

`size_model` walks precisions from the highest the spec allows (`precision: Auto` follows
PRECISION_ORDER: BF16, FP8, INT8, INT4) and, for each, the allowed GPU types in the caller's order,
taking for each type the smallest count in 1, 2, 4, 8 whose per-GPU share fits. So the answer is
the best precision first and the caller's preferred GPU type second: with types [L4, H100], a 70B
model at BF16 lands on 8x L4 rather than 2x H100, because the caller listed L4 first. Callers that
prefer fewer, larger GPUs list those first.

Unified-memory modules (Jetson) always take one per replica; FP8 needs GPUs with FP8 support.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from genai_operator.api.enums import Engine, Precision, QuantMethod
from genai_operator.sizing.concurrency import capacity
from genai_operator.sizing.explain import model_name, no_cpu_fit_reason, no_gpu_fit_reason
from genai_operator.sizing.fitting import cpu_attempt, first_fit
from genai_operator.sizing.memory import estimate_cpu_memory, estimate_memory, model_shape, resolve_engine
from genai_operator.sizing.overhead import cpu_budget_bytes
from genai_operator.sizing.quantization import QuantizationError, candidate_precisions, weight_format
from genai_operator.sizing.types import GpuType, MemoryEstimate, SizingDecision, SizingRequest

__all__ = ["estimate_memory", "size_for_cpu", "size_model", "with_capacity"]


def _serving_problem(request: SizingRequest) -> str:
    if request.parameters <= 0:
        return f"the parameter count must be positive, not {request.parameters}"
    if request.max_context < 1 or (request.max_sequences is not None and request.max_sequences < 1):
        return "serving.maxContextLength and serving.maxConcurrentSequences must be at least 1"
    if not 1 <= request.gpu_memory_utilization_percent <= 100:
        return "serving.gpuMemoryUtilizationPercent must be between 1 and 100"
    return ""


def _quantization_problem(request: SizingRequest, precision: Precision) -> str:
    try:
        weight_format(precision, request.method, request.gguf_type, request.engine, model_shape(request).hidden_size)
    except QuantizationError as error:
        return f"{model_name(request)} cannot be served as requested: {error}."
    return ""


def _plain_estimate(request: SizingRequest, precision: Precision, *, cpu: bool) -> MemoryEstimate:
    """An estimate for a decision that cannot be made (the spec is inconsistent): the precision as
    if no quantization method had been named, so status still shows a meaningful size."""
    engine = Engine.LLAMA_CPP if cpu else request.engine
    plain = replace(
        request,
        method=QuantMethod.NONE,
        gguf_type=None,
        engine=engine,
        precision=Precision.BF16 if precision is Precision.FP8 and engine is Engine.LLAMA_CPP else precision,
        parameters=max(1, request.parameters),
        max_context=max(1, request.max_context),
        max_sequences=None if request.max_sequences is None else max(1, request.max_sequences),
    )
    if cpu:
        return estimate_cpu_memory(plain, plain.precision)
    return estimate_memory(plain, plain.precision)


def _refused(request: SizingRequest, precision: Precision, reason: str, *, cpu: bool = False) -> SizingDecision:
    estimate = _plain_estimate(request, precision, cpu=cpu)
    return SizingDecision(False, estimate, None, 0, 1, (reason,))


def with_capacity(
    request: SizingRequest, estimate: MemoryEstimate, budget_bytes: int, fitted: SizingDecision
) -> SizingDecision:
    """The decision with what its hardware gives (sizing/concurrency.py); for llama.cpp, whose slots are
    allocated up front, the estimate then holds the cache of the slots chosen."""
    rest = estimate.total_bytes - estimate.kv_cache_bytes
    held = estimate.kv_held_bytes_per_token
    kv = capacity(
        request.engine, request.max_sequences, request.max_context, held, estimate.kv_cache_bytes, budget_bytes - rest
    )
    estimate = replace(estimate, kv_cache_bytes=kv.kv_bytes, total_bytes=rest + kv.kv_bytes)
    return replace(
        fitted,
        estimate=estimate,
        kv_tokens=kv.tokens,
        full_sequences=kv.full_sequences,
        batch_sequences=kv.batch,
        max_context=request.max_context,
    )


def size_model(request: SizingRequest, gpus: Sequence[GpuType]) -> SizingDecision:
    """Size one replica on the allowed GPU types, given in order of preference (see the module doc)."""
    request = replace(request, engine=resolve_engine(request.engine))
    allowed = tuple(dict.fromkeys(gpus))  # drop repeats, keep the order
    precisions = candidate_precisions(request)
    fallback = precisions[-1] if request.precision is Precision.AUTO else request.precision
    problem = _serving_problem(request) or _quantization_problem(request, precisions[0])
    if problem:
        return _refused(request, fallback, problem)
    if not allowed:
        return _refused(request, fallback, "No GPU types are allowed for this model, so nothing can be sized.")
    found, attempts = first_fit(request, precisions, allowed, request.engine)
    if found is not None and found.estimate is not None:
        fitted = SizingDecision(True, found.estimate, found.gpu, found.gpus, found.tensor_parallel)
        return with_capacity(request, found.estimate, found.budget_bytes * found.gpus, fitted)
    reason = no_gpu_fit_reason(request, request.engine, precisions, allowed, attempts)
    return SizingDecision(False, estimate_memory(request, precisions[-1]), None, 0, 1, (reason,))


def size_for_cpu(request: SizingRequest, memory_bytes: int) -> SizingDecision:
    """Size one llama.cpp replica on a CPU-only node with `memory_bytes` of allocatable memory."""
    engine = resolve_engine(request.engine, cpu=True)
    request = replace(request, engine=Engine.LLAMA_CPP)
    precisions = candidate_precisions(request)
    fallback = precisions[-1] if request.precision is Precision.AUTO else request.precision
    if engine is not Engine.LLAMA_CPP:
        reason = f"Engine {engine.value} needs GPUs; CPU-only nodes run llama.cpp (engine LlamaCpp or Auto)."
        return _refused(request, fallback, reason, cpu=True)
    problem = _serving_problem(request) or _quantization_problem(request, precisions[0])
    if problem:
        return _refused(request, fallback, problem, cpu=True)
    budget = cpu_budget_bytes(memory_bytes)
    estimate: MemoryEstimate | None = None
    for precision in precisions:
        fits, estimate = cpu_attempt(request, precision, budget)
        if fits:
            return with_capacity(request, estimate, budget, SizingDecision(True, estimate, None, 0, 1))
    assert estimate is not None  # candidate_precisions is never empty
    reason = no_cpu_fit_reason(request, precisions, memory_bytes, budget)
    return SizingDecision(False, estimate, None, 0, 1, (reason,))
