"""GPU memory vLLM reserves for LoRA adapters: one slot per adapter that may be in a batch at once.

vLLM pre-allocates, for each of --max-loras slots, the A (in x r) and B (r x out) matrices of every module it
can adapt in every layer at --max-lora-rank, in the model's 16-bit dtype:
  attention q, k, v, o: (h + Hq) + 2 (h + Hkv) + (Hq + h)      with Hq = heads x headDim, Hkv = kvHeads x headDim
  MLP gate, up, down:   3 (h + I)                              I = the MLP's intermediate size
so one slot is layers x rank x (4h + 2Hq + 2Hkv + 3h + 3I) x 2 bytes: 84 MB for Llama 3.1 8B at rank 16.
The catalog has no intermediate size; it follows from the parameter count once attention and embeddings
are taken out (exact for the Llama shapes to within 1%).
"""

from __future__ import annotations

from genai_operator.sizing.types import ModelShape

LORA_DTYPE_BYTES = 2
MAX_LORA_SLOTS = 8  # adapters in one batch; more adapters stay in host memory (--max-cpu-loras)


def intermediate_size(shape: ModelShape, parameters: int) -> int:
    """The MLP width implied by the parameter count (SwiGLU: three h x I matrices per layer and expert)."""
    h = shape.hidden_size
    q = shape.attention_heads * shape.head_dim
    kv = shape.kv_heads * shape.head_dim
    attention = shape.layers * (2 * h * q + 2 * h * kv)
    embeddings = shape.vocab_size * h * (1 if shape.tied_embeddings else 2)
    mlp = max(parameters - attention - embeddings, 0)
    per_matrix = mlp / (3 * h * shape.layers * max(shape.experts, 1))
    return max(int(per_matrix), h)


def lora_slots(adapters: int) -> int:
    return min(adapters, MAX_LORA_SLOTS)


def lora_bytes(shape: ModelShape, parameters: int, *, adapters: int, rank: int) -> int:
    """Bytes reserved on each replica (over all its GPUs) for `adapters` adapters of rank `rank`."""
    if adapters <= 0 or rank <= 0:
        return 0
    h = shape.hidden_size
    q = shape.attention_heads * shape.head_dim
    kv = shape.kv_heads * shape.head_dim
    widths = 4 * h + 2 * q + 2 * kv + 3 * (h + intermediate_size(shape, parameters))
    return lora_slots(adapters) * shape.layers * rank * widths * LORA_DTYPE_BYTES
