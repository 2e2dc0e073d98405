"""Parameter counts as users write them, and a plausible shape for a model the catalog lacks."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from genai_operator.sizing.types import ModelShape
from genai_operator.sizing.units import parameters_label

_COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmbt]?)\s*$", re.IGNORECASE)
_SCALE = {"": 1, "k": 10**3, "m": 10**6, "b": 10**9, "t": 10**12}

# Heuristic shape (Llama-3 family scaling, which most open decoder models follow closely):
#   hidden  ~ 2.05 x parameters^(1/3): 1.1B -> 2048, 3B -> 3072, 8B -> 4096, 70B -> 8192, 405B -> 15360
#           (rounded to 8 heads of 128, so tensor parallel 1/2/4/8 always divides the heads);
#   heads   = hidden / 128, head_dim 128, and GQA with 8 KV heads (Llama 3, Qwen2.5 >= 14B, Mistral);
#   layers  = non-embedding parameters / per-layer parameters, where a layer holds q/o (2 H^2),
#             k/v (2 x H x 8 x 128) and a SwiGLU MLP with intermediate 3.5 H (3 x 3.5 H^2);
#   vocab   = 32000, the smallest common vocabulary: it leaves the most parameters to the layers,
#             so the layer count, and with it the KV cache, errs on the large side.
_HIDDEN_PER_CUBE_ROOT = 2.05
_HEAD_DIM = 128
_KV_HEADS = 8
_HEAD_GRANULE = 8
_MLP_RATIO = 3.5
_ASSUMED_VOCAB = 32000
_ASSUMED_MAX_CONTEXT = 131072


def parse_parameter_count(text: str) -> int:
    """`8B` -> 8_000_000_000; also `70.6B`, `500M`, `1.5T`, `7b`, `350K` and a plain integer."""
    match = _COUNT.match(text)
    if match is None:
        raise ValueError(
            f"invalid parameter count {text!r}: expected a number with an optional K, M, B or T suffix, "
            "such as 8B, 70.6B or 500M"
        )
    number, suffix = match.groups()
    try:
        count = int(Decimal(number) * _SCALE[suffix.lower()])
    except InvalidOperation as error:  # pragma: no cover - the regex only lets decimals through
        raise ValueError(f"invalid parameter count {text!r}") from error
    if count <= 0:
        raise ValueError(f"invalid parameter count {text!r}: a model has at least one parameter")
    return count


def shape_from_parameters(parameters: int) -> ModelShape:
    """A Llama-like shape for `parameters` (see the heuristic above); used when the catalog and the
    spec's `model.architecture` both say nothing about the model."""
    if parameters <= 0:
        raise ValueError(f"parameter count must be positive, got {parameters}")
    granules = round(_HIDDEN_PER_CUBE_ROOT * parameters ** (1 / 3) / (_HEAD_DIM * _HEAD_GRANULE))
    heads = _HEAD_GRANULE * max(1, granules)
    hidden = heads * _HEAD_DIM
    per_layer = 2 * hidden * hidden + 2 * hidden * _KV_HEADS * _HEAD_DIM + 3 * int(_MLP_RATIO * hidden) * hidden
    body = parameters - 2 * _ASSUMED_VOCAB * hidden
    layers = max(1, round(body / per_layer))
    return ModelShape(
        key=f"unknown-{parameters_label(parameters).lower()}",
        aliases=(),
        parameters=parameters,
        layers=layers,
        attention_heads=heads,
        kv_heads=min(_KV_HEADS, heads),
        head_dim=_HEAD_DIM,
        hidden_size=hidden,
        vocab_size=_ASSUMED_VOCAB,
        max_context=_ASSUMED_MAX_CONTEXT,
    )
