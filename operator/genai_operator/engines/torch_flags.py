"""The `--dtype` and `--quantization` values vLLM and SGLang share: both name PyTorch dtypes and the same
quantization kernels, so a precision and method map to the same flags on either engine. Pure."""

from __future__ import annotations

from genai_operator.api.enums import Precision, QuantMethod
from genai_operator.engines.base import EngineContext


def quantization_flag(ctx: EngineContext, *, int8_as_fp8: bool) -> str | None:
    """`int8_as_fp8`: whether this engine serves INT8 with FP8 kernels on this GPU (else bitsandbytes)."""
    marlin = ctx.supports_bf16  # bf16 support marks compute capability >= 8.0, which Marlin needs
    method, precision = ctx.method, ctx.precision
    if method == QuantMethod.AWQ:
        return "awq_marlin" if marlin else "awq"
    if method == QuantMethod.GPTQ:
        return "gptq_marlin" if marlin else "gptq"
    if method == QuantMethod.BITS_AND_BYTES:
        return "bitsandbytes"
    if method == QuantMethod.FP8 or precision == Precision.FP8:
        return "fp8"
    if precision == Precision.INT8:
        return "fp8" if int8_as_fp8 else "bitsandbytes"
    if precision == Precision.INT4:
        return "bitsandbytes"
    return None


def dtype_flag(ctx: EngineContext) -> str | None:
    precision = ctx.precision
    if precision == Precision.BF16:
        return "bfloat16" if ctx.supports_bf16 else "float16"
    if precision == Precision.FP16:
        return "float16"
    if precision == Precision.FP32:
        return "float32"
    # Quantized weights: activations follow the checkpoint, except where bf16 is unavailable.
    return None if ctx.supports_bf16 else "float16"
