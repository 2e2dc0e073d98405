"""Human reasons for "does not fit": what was needed, where it fell short, and what would fit.

A reason is read in `kubectl describe` and in `genai-operator plan`, often by someone who did not
write the manifest, so it names concrete numbers and one or more changes that would work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from genai_operator.api.enums import Engine, Precision, QuantMethod
from genai_operator.formats.quantity import gib_text
from genai_operator.sizing.fitting import GPU_COUNTS, Attempt, attempt, cpu_attempt, first_fit
from genai_operator.sizing.gpu_catalog import all_gpus
from genai_operator.sizing.memory import estimate_memory
from genai_operator.sizing.quantization import QuantizationError, lower_precisions
from genai_operator.sizing.types import GpuType, MemoryEstimate, SizingRequest
from genai_operator.sizing.units import parameters_label

_MIN_CONTEXT = 512  # below this a context suggestion would not be useful to anyone


def model_name(request: SizingRequest) -> str:
    """The catalog key, or the size for models the catalog does not know (`custom`, `unknown-...`)."""
    shape = request.shape
    if shape is not None and shape.key != "custom" and not shape.key.startswith("unknown-"):
        return shape.key
    return f"A {parameters_label(request.parameters)}-parameter model"


def format_label(estimate: MemoryEstimate) -> str:
    """`BF16`, `AWQ INT4`, `GGUF Q4_K_M`: the format as people name checkpoints."""
    if estimate.method is QuantMethod.GGUF:
        return f"GGUF {estimate.gguf_type.value if estimate.gguf_type else 'F32'}"
    if estimate.method in (QuantMethod.NONE, QuantMethod.FP8):
        return estimate.precision.value
    return f"{estimate.method.value} {estimate.precision.value}"


def need_sentence(request: SizingRequest, estimate: MemoryEstimate, *, even: bool = False) -> str:
    at = "even at" if even else "at"
    if request.max_sequences is None:
        kv_for = f"one {request.max_context}-token sequence and a minimum batch"
    else:
        kv_for = f"{request.max_sequences} x {request.max_context} tokens"
    return (
        f"{model_name(request)} {at} {format_label(estimate)} needs {gib_text(estimate.total_bytes)} per replica "
        f"(weights {gib_text(estimate.weights_bytes)}, KV cache {gib_text(estimate.kv_cache_bytes)} for "
        f"{kv_for}, runtime {gib_text(estimate.overhead_bytes)})."
    )


def _placement(result: Attempt) -> str:
    return f"{result.gpus}x {result.gpu.key}"


def _largest_sentence(request: SizingRequest, largest: Attempt) -> str:
    gpu = largest.gpu
    head = f"The largest GPU tried, {gpu.key}"
    if largest.blocker:
        return f"{head}, {largest.blocker}."
    budget = f"{gib_text(gpu.usable_bytes)} usable, {gib_text(largest.budget_bytes)} for the engine"
    need = gib_text(largest.per_gpu_bytes)
    if gpu.unified_memory:
        return f"{head} ({budget}), runs one per replica and would need {need}."
    if request.gpu_count is not None:
        return f"{head} ({budget}), would need {need} per GPU with the requested {largest.gpus}."
    return f"{head} ({budget}), would need {need} per GPU even split {largest.gpus} ways."


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
    return f"spec.resources.gpu.count {found.gpus}: {_label_of(found)} on {_placement(found)}"


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
                key=lambda r: (
                    r.gpu.unified_memory != unified,
                    r.gpu.vendor not in vendors,
                    r.gpus,
                    r.gpu.usable_bytes,
                ),
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


# Where a changed request fits at a precision: "at INT4 on 1x nvidia-l4", or "" when it does not.
Where = Callable[[SizingRequest, Precision], str]
# A serving field users can lower: its spec path, its floor, how to read it and how to change it.
Knob = tuple[str, int, Callable[[SizingRequest], int], Callable[[SizingRequest, int], SizingRequest]]
_SERVING_KNOBS: tuple[Knob, ...] = (
    (
        "spec.serving.maxConcurrentSequences",
        1,
        lambda r: r.max_sequences or 0,  # Auto already asks for the least: nothing to lower
        lambda r, n: replace(r, max_sequences=n),
    ),
    (
        "spec.serving.maxContextLength",
        _MIN_CONTEXT,
        lambda r: r.max_context,
        lambda r, n: replace(r, max_context=n),
    ),
)


def _probe(
    request: SizingRequest,
    precision: Precision,
    changed: Callable[[SizingRequest, int], SizingRequest],
    where: Where,
) -> Callable[[int], bool]:
    return lambda n: bool(where(changed(request, n), precision))


def _smaller_serving_option(request: SizingRequest, precisions: tuple[Precision, ...], where: Where) -> str:
    """Fewer concurrent sequences, or else a shorter context, that fit at the first of `precisions`
    where either does."""
    for precision in precisions:
        if where(request, precision):
            continue  # fits as it is: the lower-precision option already says so
        for field, low, current, changed in _SERVING_KNOBS:
            value = _largest_fitting(low, current(request) - 1, _probe(request, precision, changed, where))
            if value:
                fits_at = where(changed(request, value), precision)
                return f"{field} {value} (instead of {current(request)}) {fits_at}"
    return ""


def _reduction_precisions(request: SizingRequest, lowest: Precision) -> tuple[Precision, ...]:
    """The precision that failed, then (when the user chose it) the lowest the method allows."""
    lower = lower_precisions(request, request.precision) if request.precision is not Precision.AUTO else ()
    return (lowest, lower[-1]) if lower else (lowest,)


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

    def on_largest(changed: SizingRequest, precision: Precision) -> str:
        result = attempt(changed, precision, largest_gpu, engine)
        return f"at {_label_of(result)} on {_placement(result)}" if result.fits else ""

    options = [
        option
        for option in (
            _any_count_option(request, engine, precisions, gpus),
            _lower_precision_option(request, engine, gpus) if request.precision is not Precision.AUTO else "",
            _catalog_option(request, engine, precisions, gpus),
            ""
            if largest.blocker
            else _smaller_serving_option(request, _reduction_precisions(request, lowest), on_largest),
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
    reserve = "after the reserve for the OS and page cache"
    offer = f"The node offers {gib_text(memory_bytes)}, {gib_text(budget_bytes)} {reserve}."
    cpu_request = replace(request, engine=Engine.LLAMA_CPP)
    options: list[str] = []
    if request.precision is not Precision.AUTO:
        for precision in lower_precisions(cpu_request, request.precision):
            fits, lower = cpu_attempt(request, precision, budget_bytes)
            if fits:
                options.append(f"{format_label(lower)} ({gib_text(lower.total_bytes)})")
                break

    def on_node(changed: SizingRequest, precision: Precision) -> str:
        fits, estimate = cpu_attempt(changed, precision, budget_bytes)
        return f"at {format_label(estimate)} ({gib_text(estimate.total_bytes)})" if fits else ""

    if not options:
        options.append(_smaller_serving_option(request, _reduction_precisions(cpu_request, precisions[-1]), on_node))
    options = [option for option in options if option]
    advice = ("Would fit: " + "; ".join(options) + ".") if options else "Use a node with more memory or a GPU pool."
    return " ".join((need, offer, advice))
