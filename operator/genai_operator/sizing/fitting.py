"""Does a model fit one GPU type, and on how many GPUs? The search behind `size_model`."""

from __future__ import annotations

from dataclasses import dataclass

from genai_operator.api.enums import Engine, Precision
from genai_operator.sizing.memory import (
    estimate_cpu_memory,
    estimate_memory,
    model_shape,
    per_device_bytes,
    splits_heads,
)
from genai_operator.sizing.overhead import gpu_budget_bytes
from genai_operator.sizing.quantization import QuantizationError
from genai_operator.sizing.types import GpuType, MemoryEstimate, ModelShape, SizingRequest

# Tensor parallel sizes vLLM and TGI are normally run with (DESIGN.md §4).
GPU_COUNTS: tuple[int, ...] = (1, 2, 4, 8)


@dataclass(frozen=True)
class Attempt:
    """The outcome of sizing one precision on one GPU type."""

    gpu: GpuType
    precision: Precision
    fits: bool
    gpus: int = 0  # the count that fits, or the largest count that could be tried
    tensor_parallel: int = 1
    estimate: MemoryEstimate | None = None  # at `gpus`; None when blocked before estimating
    per_gpu_bytes: int = 0
    budget_bytes: int = 0
    blocker: str = ""  # why no count could be tried ("has no FP8 support", ...)


def heads_problem(shape: ModelShape, tensor_parallel: int) -> str:
    """Why vLLM cannot shard `shape` `tensor_parallel` ways ("" when it can).

    vLLM asserts attention heads % TP == 0, and for KV heads either KV % TP == 0 or (when TP is
    larger, the heads are replicated) TP % KV == 0.
    """
    if shape.attention_heads % tensor_parallel:
        return f"{tensor_parallel} does not divide the {shape.attention_heads} attention heads"
    kv = shape.kv_heads
    if (kv % tensor_parallel) if tensor_parallel <= kv else (tensor_parallel % kv):
        return f"{tensor_parallel} does not divide the {kv} KV heads"
    return ""


def tensor_parallel_for(engine: Engine, gpus: int) -> int:
    return gpus if splits_heads(engine) else 1


def _counts(request: SizingRequest, gpu: GpuType) -> tuple[tuple[int, ...], str]:
    if request.gpu_count is not None:
        if request.gpu_count < 1:
            return (), f"a replica needs at least one GPU, not {request.gpu_count}"
        if gpu.unified_memory and request.gpu_count > 1:
            return (), f"is a unified-memory {gpu.name} module, one per replica, not {request.gpu_count}"
        return (request.gpu_count,), ""
    return ((1,) if gpu.unified_memory else GPU_COUNTS), ""


def attempt(request: SizingRequest, precision: Precision, gpu: GpuType, engine: Engine) -> Attempt:
    """Size `precision` on `gpu`: the smallest allowed count that fits, or the best miss."""
    if precision is Precision.FP8 and not gpu.supports_fp8:
        return Attempt(gpu, precision, False, blocker="has no FP8 support")
    counts, blocker = _counts(request, gpu)
    if blocker:
        return Attempt(gpu, precision, False, blocker=blocker)
    shape = model_shape(request)
    budget = gpu_budget_bytes(gpu, engine, request.gpu_memory_utilization_percent)
    best = Attempt(gpu, precision, False, budget_bytes=budget)
    problems: list[str] = []
    for count in counts:
        tensor_parallel = tensor_parallel_for(engine, count)
        problem = heads_problem(shape, tensor_parallel) if splits_heads(engine) else ""
        if problem:
            problems.append(f"cannot be split {count} ways ({problem})")
            continue
        try:
            estimate = estimate_memory(request, precision, count, gpu)
        except QuantizationError as error:
            return Attempt(gpu, precision, False, blocker=str(error))
        need = per_device_bytes(estimate, count)
        result = Attempt(gpu, precision, need <= budget, count, tensor_parallel, estimate, need, budget)
        if result.fits:
            return result
        best = result
    if best.estimate is None:
        return Attempt(gpu, precision, False, budget_bytes=budget, blocker=" and ".join(problems))
    return best


def first_fit(
    request: SizingRequest, precisions: tuple[Precision, ...], gpus: tuple[GpuType, ...], engine: Engine
) -> tuple[Attempt | None, list[Attempt]]:
    """Precision-major search: the highest precision that fits any GPU type, and among the types the
    first in the caller's order (which is the caller's preference). Returns every attempt made."""
    attempts: list[Attempt] = []
    for precision in precisions:
        for gpu in gpus:
            result = attempt(request, precision, gpu, engine)
            attempts.append(result)
            if result.fits:
                return result, attempts
    return None, attempts


def cpu_attempt(request: SizingRequest, precision: Precision, budget_bytes: int) -> tuple[bool, MemoryEstimate]:
    """Whether one llama.cpp replica at `precision` fits `budget_bytes` of node memory."""
    estimate = estimate_cpu_memory(request, precision)
    return estimate.total_bytes <= budget_bytes, estimate
