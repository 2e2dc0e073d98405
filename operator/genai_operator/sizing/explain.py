"""Human reasons for "does not fit": what was needed, where it fell short, and what would fit.

A reason is read in `kubectl describe` and in `genai-operator plan`, often by someone who did not
write the manifest, so it names concrete numbers and one or more changes that would work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from genai_operator.api.enums import Engine, Precision, QuantMethod
from genai_operator.sizing.fitting import GPU_COUNTS, Attempt, attempt, cpu_attempt, first_fit
from genai_operator.sizing.gpu_catalog import all_gpus
from genai_operator.sizing.memory import estimate_memory
from genai_operator.sizing.quantization import QuantizationError, lower_precisions
from genai_operator.sizing.types import GpuType, MemoryEstimate, SizingRequest
from genai_operator.sizing.units import gib, parameters_label

_MIN_CONTEXT = 512  # below this a context suggestion would not be useful to anyone


def model_name(request: SizingRequest) -> str:
    if request.shape is not None:
        return request.shape.key
    return f"a {parameters_label(request.parameters)}-parameter model"


def format_label(estimate: MemoryEstimate) -> str:
    """`BF16`, `AWQ INT4`, `GGUF Q4_K_M`: the format as people name checkpoints."""
    if estimate.method is QuantMethod.GGUF:
        return f"GGUF {estimate.gguf_type.value if estimate.gguf_type else 'F32'}"
    if estimate.method in (QuantMethod.NONE, QuantMethod.FP8):
        return estimate.precision.value
    return f"{estimate.method.value} {estimate.precision.value}"


def need_sentence(request: SizingRequest, estimate: MemoryEstimate, *, even: bool = False) -> str:
    at = "even at" if even else "at"
    return (
        f"{model_name(request)} {at} {format_label(estimate)} needs {gib(estimate.total_bytes)} per replica "
        f"(weights {gib(estimate.weights_bytes)}, KV cache {gib(estimate.kv_cache_bytes)} for "
        f"{request.max_sequences} x {request.max_context} tokens, runtime {gib(estimate.overhead_bytes)})."
    )


def _placement(result: Attempt) -> str:
    return f"{result.gpus}x {result.gpu.key}"


def _largest_sentence(request: SizingRequest, largest: Attempt) -> str:
    gpu = largest.gpu
    head = f"The largest GPU tried, {gpu.key}"
    if largest.blocker:
        return f"{head}, {largest.blocker}."
    budget = f"{gib(gpu.usable_bytes)} usable, {gib(largest.budget_bytes)} for the engine"
    if request.gpu_count is not None:
        where = f"with the requested {largest.gpus}"
    elif largest.gpus == 1:
        where = "on its one GPU per replica" if gpu.unified_memory else "on one GPU"
    else:
        where = f"even split across {largest.gpus}"
    return f"{head} ({budget}), would need {gib(largest.per_gpu_bytes)} per GPU {where}."


def _label_of(result: Attempt) -> str:
    return format_label(result.estimate) if result.estimate is not None else result.precision.value


def _any_count_option(
    request: SizingRequest, engine: Engine, precisions: tuple[Precision, ...], gpus: tuple[GpuType, ...]
) -> str:
    """With an explicit GPU count that is too small (or does not divide the heads): the count that works."""
    if request.gpu_count is None:
        return ""
    found, _ = first_fit(replace(request, gpu_count=None), precisions, gpus, engine)
    if found is None:
        return ""
    return f"resources.gpu.count {found.gpus}: {_label_of(found)} on {_placement(found)}"


def _lower_precision_option(request: SizingRequest, engine: Engine, gpus: tuple[GpuType, ...]) -> str:
    for precision in lower_precisions(request, request.precision):
        found, _ = first_fit(request, (precision,), gpus, engine)
        if found is not None:
            return f"{_label_of(found)} on {_placement(found)}"
    return ""


def _catalog_option(
    request: SizingRequest, engine: Engine, precisions: tuple[Precision, ...], tried: tuple[GpuType, ...]
) -> str:
    """The catalog GPU outside the allowed types that holds it on the fewest, then smallest, GPUs;
    the same vendor and device class (discrete or unified memory) as the tried ones first."""
    vendors = {gpu.vendor for gpu in tried}
    unified = all(gpu.unified_memory for gpu in tried)
    others = [gpu for gpu in all_gpus() if gpu not in tried]
    for precision in precisions:
        fits = [r for r in (attempt(request, precision, gpu, engine) for gpu in others) if r.fits]
        if fits:
            best = min(
                fits,
                key=lambda r: (r.gpu.unified_memory != unified, r.gpu.vendor not in vendors, r.gpus, r.gpu.usable_bytes),
            )
            return f"{_label_of(best)} on {_placement(best)} (a GPU type not allowed here)"
    return ""


def _largest_fitting(low: int, high: int, fits: Callable[[int], bool]) -> int:
    """The largest n in [low, high] for which fits(n) holds (memory is monotonic in n), or 0."""
    best = 0
    while low <= high:
        middle = (low + high) // 2
        if fits(middle):
            best, low = middle, middle + 1
        else:
            high = middle - 1
    return best


def _smaller_serving_option(request: SizingRequest, engine: Engine, precision: Precision, gpu: GpuType) -> str:
    """Fewer concurrent sequences, or else a shorter context, that fit `gpu` at `precision`."""

    def fits(changed: SizingRequest) -> Attempt | None:
        result = attempt(changed, precision, gpu, engine)
        return result if result.fits else None

    sequences = _largest_fitting(
        1, request.max_sequences - 1, lambda n: fits(replace(request, max_sequences=n)) is not None
    )
    if sequences:
        found = fits(replace(request, max_sequences=sequences))
        assert found is not None
        return (
            f"serving.maxConcurrentSequences {sequences} (instead of {request.max_sequences}) "
            f"at {_label_of(found)} on {_placement(found)}"
        )
    context = _largest_fitting(
        _MIN_CONTEXT, request.max_context - 1, lambda n: fits(replace(request, max_context=n)) is not None
    )
    if context:
        found = fits(replace(request, max_context=context))
        assert found is not None
        return (
            f"serving.maxContextLength {context} (instead of {request.max_context}) "
            f"at {_label_of(found)} on {_placement(found)}"
        )
    return ""


def no_gpu_fit_reason(
    request: SizingRequest,
    engine: Engine,
    precisions: tuple[Precision, ...],
    gpus: tuple[GpuType, ...],
    attempts: list[Attempt],
) -> str:
    lowest = precisions[-1]
    try:
        need = need_sentence(request, estimate_memory(request, lowest), even=len(precisions) > 1)
    except QuantizationError as error:
        return f"{model_name(request)} cannot be served as requested: {error}."
    largest_gpu = max(gpus, key=lambda gpu: gpu.usable_bytes)
    largest = [a for a in attempts if a.gpu == largest_gpu and a.precision is lowest][-1]
    options = [
        option
        for option in (
            _any_count_option(request, engine, precisions, gpus),
            _lower_precision_option(request, engine, gpus) if request.precision is not Precision.AUTO else "",
            _catalog_option(request, engine, precisions, gpus),
            "" if largest.blocker else _smaller_serving_option(request, engine, lowest, largest_gpu),
        )
        if option
    ]
    if options:
        advice = "Would fit: " + "; ".join(options) + "."
    else:
        advice = f"No GPU in the catalog holds it on up to {GPU_COUNTS[-1]} GPUs per replica at this precision."
    return " ".join((need, _largest_sentence(request, largest), advice))


def no_cpu_fit_reason(
    request: SizingRequest, precisions: tuple[Precision, ...], memory_bytes: int, budget_bytes: int
) -> str:
    _, estimate = cpu_attempt(request, precisions[-1], budget_bytes)
    need = need_sentence(request, estimate, even=len(precisions) > 1)
    offer = (
        f"The node offers {gib(memory_bytes)}, {gib(budget_bytes)} after the reserve for the OS and page cache."
    )
    options: list[str] = []
    if request.precision is not Precision.AUTO:
        for precision in lower_precisions(replace(request, engine=Engine.LLAMA_CPP), request.precision):
            fits, lower = cpu_attempt(request, precision, budget_bytes)
            if fits:
                options.append(f"{format_label(lower)} ({gib(lower.total_bytes)})")
                break
    sequences = _largest_fitting(
        1,
        request.max_sequences - 1,
        lambda n: cpu_attempt(replace(request, max_sequences=n), precisions[-1], budget_bytes)[0],
    )
    if sequences:
        options.append(f"serving.maxConcurrentSequences {sequences} (instead of {request.max_sequences})")
    advice = ("Would fit: " + "; ".join(options) + ".") if options else "Use a node with more memory or a GPU pool."
    return " ".join((need, offer, advice))
