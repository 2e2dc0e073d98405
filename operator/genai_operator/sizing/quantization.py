"""Weight formats: how many bits each part of a checkpoint takes for a precision, method and engine.

A checkpoint has three parts that quantize differently: the transformer layers (the "body"), the
token embeddings and the output head (vocab x hidden each; one tensor when tied). Every weight-only
method the engines load keeps the last two in 16 bit, which is why a small model with a large
vocabulary shrinks far less than the nominal ratio (Qwen2.5-0.5B at INT4 is still 0.37 GB).
"""

from __future__ import annotations

from dataclasses import dataclass

from genai_operator.api.enums import PRECISION_ORDER, Engine, GgufType, Precision, QuantMethod
from genai_operator.sizing.types import ModelShape, SizingRequest
from genai_operator.sizing.units import ceil_div

# AWQ and GPTQ (group size 128, the default of AutoAWQ, AutoGPTQ and llm-compressor): per group of
# 128 weights one fp16 scale and one zero point packed at the weight width, so
# 4 + (16 + 4) / 128 = 4.156 bits and 8 + (16 + 8) / 128 = 8.188 bits. GPTQ's g_idx (one int32 per
# input channel) adds 32 / out_features, under 0.01 bit, and is left out.
# Check: hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4 is 5.73 GB, Qwen2.5-7B-Instruct-GPTQ-Int4
# 5.55 GB, the 70B AWQ 39.8 GB; this model gives 5.73, 5.57 and 39.8.
GROUP_INT4_BITS = 4 + (16 + 4) / 128
GROUP_INT8_BITS = 8 + (16 + 8) / 128
# bitsandbytes NF4 (transformers default: blocksize 64, fp32 absmax, no double quantization).
BNB_NF4_BITS = 4 + 32 / 64
# FP8 (E4M3) and per-channel INT8 (LLM.int8, llm-compressor W8A8) store one fp32 scale per output
# channel: 32 / in_features bits on top of 8. neuralmagic's Llama-3.1-8B-Instruct-FP8 is 9.08 GB.
PER_CHANNEL_SCALE_BITS = 32


@dataclass(frozen=True)
class GgufBits:
    """Bits per weight of one llama.cpp file type, by part of the model."""

    body: float  # transformer layers, averaged over the per-tensor mixture
    embedding: float  # token_embd: the file type's base type
    output: float  # output.weight (and token_embd when tied): Q6_K unless the type is Q8_0 or F16


# Block sizes (ggml-common.h): Q2_K 2.625, Q3_K 3.4375, Q4_K 4.5, Q5_K 5.5, Q6_K 6.5625, Q4_0 4.5,
# Q5_0 5.5, Q8_0 8.5 bits per weight. k-quant "S/M/L" types mix them per tensor
# (llama_tensor_get_type_impl in llama.cpp src/llama-quant.cpp: e.g. Q4_K_M puts attn_v and ffn_down
# of half the layers in Q6_K). `body` is that mixture averaged over a Llama-3.1-8B layer stack.
# Check: with embedding and output added, Llama-3.1-8B comes to Q4_K_M 4.91 GB, Q8_0 8.53 GB,
# Q6_K 6.59 GB, Q3_K_M 4.01 GB (bartowski/Meta-Llama-3.1-8B-Instruct-GGUF lists 4.92, 8.54, 6.60,
# 4.02) and Mistral-7B-v0.3 Q4_K_M 4.37 GB (listed 4.37). Over Llama 2 7B the whole-file averages
# match llama.cpp's tools/quantize/README.md table (Q4_K_M 4.84, Q5_K_M 5.68, Q6_K 6.56, Q3_K_M 3.91);
# its Q2_K 3.35 predates the current, leaner Q2_K mixture.
_Q6_K = 6.5625
GGUF_BITS: dict[GgufType, GgufBits] = {
    GgufType.Q2_K: GgufBits(2.94, 2.625, _Q6_K),
    GgufType.Q3_K_S: GgufBits(3.4375, 3.4375, _Q6_K),
    GgufType.Q3_K_M: GgufBits(3.84, 3.4375, _Q6_K),
    GgufType.Q3_K_L: GgufBits(4.19, 3.4375, _Q6_K),
    GgufType.Q4_0: GgufBits(4.5, 4.5, _Q6_K),
    GgufType.Q4_K_S: GgufBits(4.54, 4.5, _Q6_K),
    GgufType.Q4_K_M: GgufBits(4.80, 4.5, _Q6_K),
    GgufType.Q5_0: GgufBits(5.5, 5.5, _Q6_K),
    GgufType.Q5_K_S: GgufBits(5.5, 5.5, _Q6_K),
    GgufType.Q5_K_M: GgufBits(5.65, 5.5, _Q6_K),
    GgufType.Q6_K: GgufBits(_Q6_K, _Q6_K, _Q6_K),
    GgufType.Q8_0: GgufBits(8.5, 8.5, 8.5),
    GgufType.F16: GgufBits(16, 16, 16),
}

# Which GGUF file llama.cpp serves for a precision (the brief of DESIGN.md: BF16 -> F16 and so on).
GGUF_FOR_PRECISION: dict[Precision, GgufType] = {
    Precision.BF16: GgufType.F16,
    Precision.FP16: GgufType.F16,
    Precision.INT8: GgufType.Q8_0,
    Precision.INT4: GgufType.Q4_K_M,
}


def precision_of_gguf(gguf_type: GgufType) -> Precision:
    """The status-level precision of a GGUF type: its nearest wider enum value (Q5/Q6 count as INT8)."""
    if gguf_type is GgufType.F16:
        return Precision.FP16
    return Precision.INT4 if gguf_type.value[1] in "234" else Precision.INT8


class QuantizationError(ValueError):
    """A precision / method / engine combination that no engine can serve."""


@dataclass(frozen=True)
class WeightFormat:
    label: str  # for humans: "BF16", "AWQ INT4", "GGUF Q4_K_M"
    precision: Precision
    method: QuantMethod
    gguf_type: GgufType | None
    body_bits: float
    embedding_bits: float
    output_bits: float  # the output head; a tied embedding takes this width (llama.cpp does so)

    def weights_bytes(self, shape: ModelShape, parameters: int) -> int:
        embedding = shape.vocab_size * shape.hidden_size
        head = 0 if shape.tied_embeddings else embedding
        body = max(0, parameters - embedding - head)
        embedding_bits = self.output_bits if shape.tied_embeddings else self.embedding_bits
        bits = body * self.body_bits + embedding * embedding_bits + head * self.output_bits
        return ceil_div(int(bits), 8)


def _uniform(label: str, precision: Precision, method: QuantMethod, body_bits: float) -> WeightFormat:
    """A format whose embeddings and head stay at the activation width (16 bit, 32 for FP32)."""
    edge_bits = 32.0 if precision is Precision.FP32 else 16.0
    return WeightFormat(label, precision, method, None, body_bits, edge_bits, edge_bits)


def _gguf(gguf_type: GgufType | None, precision: Precision) -> WeightFormat:
    if gguf_type is None:  # FP32: llama.cpp's F32 file type
        return WeightFormat("GGUF F32", precision, QuantMethod.GGUF, None, 32, 32, 32)
    bits = GGUF_BITS[gguf_type]
    return WeightFormat(
        f"GGUF {gguf_type.value}",
        precision,
        QuantMethod.GGUF,
        gguf_type,
        bits.body,
        bits.embedding,
        bits.output,
    )


def _gguf_format(precision: Precision, method: QuantMethod, gguf_type: GgufType | None, engine: Engine) -> WeightFormat:
    if method not in (QuantMethod.NONE, QuantMethod.GGUF):
        raise QuantizationError(f"llama.cpp loads GGUF files only; {method.value} checkpoints need vLLM or TGI")
    if engine is Engine.TGI:
        raise QuantizationError("TGI does not load GGUF files; use engine LlamaCpp or VLLM")
    if method is QuantMethod.GGUF and gguf_type is not None:
        return _gguf(gguf_type, precision_of_gguf(gguf_type))
    if precision is Precision.FP8:
        raise QuantizationError("llama.cpp has no FP8 weight type; use INT8 (GGUF Q8_0) instead")
    if precision is Precision.FP32:
        return _gguf(None, precision)
    return _gguf(GGUF_FOR_PRECISION[precision], precision)


_METHOD_PRECISIONS: dict[QuantMethod, tuple[Precision, ...]] = {
    QuantMethod.AWQ: (Precision.INT4,),
    QuantMethod.GPTQ: (Precision.INT4, Precision.INT8),
    QuantMethod.BITS_AND_BYTES: (Precision.INT8, Precision.INT4),
    QuantMethod.FP8: (Precision.FP8,),
}


def weight_format(
    precision: Precision, method: QuantMethod, gguf_type: GgufType | None, engine: Engine, hidden_size: int
) -> WeightFormat:
    """The format a replica holds its weights in; raises QuantizationError for impossible combinations.

    Precision INT4/INT8 with method None means a pre-quantized checkpoint of unspecified method,
    sized like GPTQ group-128 (INT4) or per-channel INT8. FP8 with method None is vLLM's on-load
    FP8 quantization of a 16-bit checkpoint, which ends up the same size as an FP8 checkpoint.
    """
    if precision is Precision.AUTO:
        raise ValueError("resolve precision Auto to a concrete precision before asking for a weight format")
    if engine is Engine.LLAMA_CPP or method is QuantMethod.GGUF:
        return _gguf_format(precision, method, gguf_type, engine)
    per_channel = 8 + PER_CHANNEL_SCALE_BITS / hidden_size
    if method is QuantMethod.NONE:
        body = {Precision.FP32: 32.0, Precision.BF16: 16.0, Precision.FP16: 16.0, Precision.FP8: per_channel,
                Precision.INT8: per_channel, Precision.INT4: GROUP_INT4_BITS}[precision]  # fmt: skip
        return _uniform(precision.value, precision, method, body)
    if precision not in _METHOD_PRECISIONS[method]:
        allowed = " or ".join(p.value for p in _METHOD_PRECISIONS[method])
        raise QuantizationError(f"{method.value} checkpoints are {allowed}, not {precision.value}")
    if method is QuantMethod.FP8:
        return _uniform("FP8", precision, method, per_channel)
    if method is QuantMethod.BITS_AND_BYTES:
        body = per_channel if precision is Precision.INT8 else BNB_NF4_BITS
    else:
        body = GROUP_INT8_BITS if precision is Precision.INT8 else GROUP_INT4_BITS
    return _uniform(f"{method.value} {precision.value}", precision, method, body)


def candidate_precisions(request: SizingRequest) -> tuple[Precision, ...]:
    """Precisions to try, best first: the requested one, or for Auto what the method and engine allow.

    Auto with AWQ or GPTQ assumes the common 4-bit checkpoint (name an 8-bit GPTQ one explicitly).
    """
    method = request.method
    if method is QuantMethod.GGUF and request.gguf_type is not None:
        return (precision_of_gguf(request.gguf_type),)
    if request.precision is not Precision.AUTO:
        return (request.precision,)
    if method in (QuantMethod.AWQ, QuantMethod.GPTQ):
        return (Precision.INT4,)
    if method in (QuantMethod.FP8, QuantMethod.BITS_AND_BYTES):
        return _METHOD_PRECISIONS[method]
    if method is QuantMethod.GGUF or request.engine is Engine.LLAMA_CPP:
        return tuple(p for p in PRECISION_ORDER if p in GGUF_FOR_PRECISION)
    return PRECISION_ORDER


def lower_precisions(request: SizingRequest, precision: Precision) -> tuple[Precision, ...]:
    """Precisions below `precision` the same method could use (for "what would fit" suggestions)."""
    if request.method in (QuantMethod.AWQ, QuantMethod.FP8) or request.gguf_type is not None:
        return ()
    allowed = _METHOD_PRECISIONS.get(request.method, PRECISION_ORDER)
    if request.engine is Engine.LLAMA_CPP or request.method is QuantMethod.GGUF:
        allowed = tuple(GGUF_FOR_PRECISION)
    order = (Precision.FP32, *PRECISION_ORDER)
    position = Precision.BF16 if precision is Precision.FP16 else precision  # same width
    below = order[order.index(position) + 1 :] if position in order else ()
    return tuple(p for p in below if p in allowed)
