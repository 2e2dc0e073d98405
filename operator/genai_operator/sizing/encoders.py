"""Sizing of embedding and reranking models served by Text Embeddings Inference (TEI).

Encoders keep no KV cache: a request is one forward pass over at most `maxContextLength` tokens (the
model's own maximum, 512 for BERT-class models). What a replica holds besides the weights is one batch in
flight, and TEI bounds that in tokens (`--max-batch-tokens`). Our batch budget is `maxConcurrentSequences`
full-length inputs (Auto: 32, TEI's own `--max-client-batch-size`, so 32 x 512 = 16384 tokens, TEI's default
`--max-batch-tokens`):

    replica = weights + batch tokens x activations per token + runtime

Activations per batch token: ~20 hidden-size values (residual stream, q/k/v, attention output, the 4x MLP
intermediate) plus one attention row per head (heads x context scores; the CPU backend materialises them,
flash attention on GPU does not, counted on both to stay conservative). Precision: TEI computes in float16
on GPUs (Auto, FP16 and BF16 alike: it offers no bfloat16) or float32 (FP32), and always in float32 on CPUs.
One GPU per replica: TEI has no tensor parallelism, and an encoder that needs more than one GPU is no edge
or RAG-sidecar model. TEI publishes CUDA images for amd64 and NVIDIA only, so Jetson and AMD GPUs are refused
with a reason (a CPU pool serves these models well).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from genai_operator.api.enums import Precision, QuantMethod
from genai_operator.formats.quantity import MIB
from genai_operator.formats.quantity import gib_text as gib
from genai_operator.sizing.explain import model_name
from genai_operator.sizing.memory import model_shape
from genai_operator.sizing.overhead import cpu_budget_bytes
from genai_operator.sizing.types import GpuType, MemoryEstimate, SizingDecision, SizingRequest

AUTO_BATCH_SEQUENCES = 32  # TEI's --max-client-batch-size default
HIDDEN_VALUES_PER_TOKEN = 20
GPU_RUNTIME_BYTES = 768 * MIB  # CUDA context, cuBLASLt workspace
CPU_RUNTIME_BYTES = 256 * MIB  # the router, tokenizer workers, the ONNX/candle runtime


@dataclass(frozen=True)
class EncoderBatch:
    """What one replica is sized for: the input length and the batch in sequences and tokens."""

    max_context: int
    sequences: int

    @property
    def tokens(self) -> int:
        return self.max_context * self.sequences


def encoder_batch(request: SizingRequest) -> EncoderBatch:
    """maxContextLength capped at the model's maximum (TEI truncates there), and the batch in sequences."""
    shape = model_shape(request)
    context = min(request.max_context, shape.max_context)
    return EncoderBatch(max(1, context), request.max_sequences or AUTO_BATCH_SEQUENCES)


def encoder_precision(request: SizingRequest, *, cpu: bool) -> Precision:
    """The precision TEI computes in (see the module docstring)."""
    if cpu or request.precision is Precision.FP32:
        return Precision.FP32
    return Precision.FP16


def estimate_encoder(request: SizingRequest, *, cpu: bool) -> MemoryEstimate:
    shape = model_shape(request)
    precision = encoder_precision(request, cpu=cpu)
    value_bytes = 4 if precision is Precision.FP32 else 2
    weights = request.parameters * value_bytes
    batch = encoder_batch(request)
    per_token = HIDDEN_VALUES_PER_TOKEN * shape.hidden_size + shape.attention_heads * batch.max_context
    activations = batch.tokens * per_token * value_bytes
    overhead = activations + (CPU_RUNTIME_BYTES if cpu else GPU_RUNTIME_BYTES)
    return MemoryEstimate(
        precision=precision,
        method=QuantMethod.NONE,
        bits_per_weight=value_bytes * 8,
        weights_bytes=weights,
        kv_cache_bytes=0,
        kv_bytes_per_token=0,
        overhead_bytes=overhead,
        total_bytes=weights + overhead,
    )


def _decision(request: SizingRequest, estimate: MemoryEstimate, gpu: GpuType | None) -> SizingDecision:
    batch = encoder_batch(request)
    return SizingDecision(
        True,
        estimate,
        gpu,
        1 if gpu is not None else 0,
        1,
        max_context=batch.max_context,
        full_sequences=batch.sequences,
        batch_sequences=batch.sequences,
    )


def _unserved(gpu: GpuType) -> str:
    if gpu.vendor != "nvidia":
        return f"{gpu.key}: TEI publishes no image for {gpu.vendor.upper()} GPUs"
    if gpu.arch != "amd64" or gpu.unified_memory:
        return f"{gpu.key}: TEI publishes CUDA images for amd64 servers only"
    return ""


def size_encoder(request: SizingRequest, gpus: Sequence[GpuType]) -> SizingDecision:
    """One TEI replica on one GPU of the first allowed type it fits, in the caller's order."""
    estimate = estimate_encoder(request, cpu=False)
    notes: list[str] = []
    for gpu in dict.fromkeys(gpus):
        problem = _unserved(gpu)
        if problem:
            notes.append(problem)
            continue
        budget = gpu.usable_bytes * request.gpu_memory_utilization_percent // 100
        if estimate.total_bytes <= budget:
            return _decision(request, estimate, gpu)
        notes.append(f"{gpu.key}: {gib(estimate.total_bytes)} needed, {gib(budget)} usable")
    tried = "; ".join(notes) or "no GPU type allowed"
    reason = (
        f"{model_name(request)} does not fit one GPU ({tried}); lower serving.maxConcurrentSequences "
        "(the batch) or serve it on a CPU pool"
    )
    return SizingDecision(False, estimate, None, 0, 1, (reason,))


def size_encoder_cpu(request: SizingRequest, memory_bytes: int) -> SizingDecision:
    """One TEI replica on a CPU-only node with `memory_bytes` of allocatable memory."""
    estimate = estimate_encoder(request, cpu=True)
    budget = cpu_budget_bytes(memory_bytes)
    if estimate.total_bytes <= budget:
        return _decision(request, estimate, None)
    reason = (
        f"{model_name(request)} needs {gib(estimate.total_bytes)} in float32 on CPU, the node gives "
        f"{gib(budget)} of {gib(memory_bytes)}; lower serving.maxConcurrentSequences (the batch) or use a "
        "larger node"
    )
    return SizingDecision(False, estimate, None, 0, 1, (reason,))


def with_request_defaults(request: SizingRequest) -> SizingRequest:
    """The request with precision Auto kept (TEI resolves it per device) and no LoRA."""
    return replace(request, lora_adapters=0, lora_rank=0, method=QuantMethod.NONE, gguf_type=None)
