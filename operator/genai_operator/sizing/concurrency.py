"""Concurrency Auto: how much KV cache a replica must hold when `serving.maxConcurrentSequences` is unset,
and what the chosen hardware then gives.

An explicit `maxConcurrentSequences` is a promise: the KV cache is sized for that many full
`maxContextLength` sequences. Unset (Auto), the rule is what the engines need to start and to serve usefully:

- **Start.** The cache holds one full `maxContextLength` sequence. vLLM refuses to start otherwise ("the
  model's max seq len is larger than the maximum number of tokens that can be stored in KV cache"); TGI
  needs `--max-batch-total-tokens` >= `--max-total-tokens`; llama.cpp allocates each slot's context up front.
- **Serve usefully** (vLLM, TGI): on top of that sequence, a minimum batch of the larger of one prefill chunk
  (the tokens the scheduler admits per step: vLLM's `max_num_batched_tokens`, TGI's prefill budget), so a
  new request can start while the long one decodes, and `MIN_BATCH_KV_PERCENT` of the weights' bytes. Each
  decode step reads every weight once; a cache much smaller than the weights caps the batch at a handful
  of sequences, so the replica pays for its GPUs without the throughput they are bought for. 8% separates
  the published minimum configurations (Llama 3.1 8B BF16 on one L4 or A10G leaves ~27%, Qwen2.5 32B BF16
  on one A100 80GB ~16%) from the ones publishers do not recommend (70B BF16 on 2x A100 or 2x H100: 5-7%,
  three or four 8K sequences for 140 GB of weights); see the README table.
- **llama.cpp** serves a fixed number of slots, each of `maxContextLength` tokens, allocated at start: Auto
  runs as many slots as the memory holds, up to `LLAMA_CPP_AUTO_SLOTS` (llama-server's own default), at least one.

vLLM and TGI give all memory left after weights, activations and overhead to the paged KV cache, so the
capacity reported (`kvCacheTokens`, `fullContextSequences`) is that remainder on the chosen GPUs; their
batch cap under Auto is vLLM's default `--max-num-seqs` (256): concurrency then follows from the cache.
"""

from __future__ import annotations

from dataclasses import dataclass

from genai_operator.api.enums import Engine
from genai_operator.sizing.units import ceil_div

# maxContextLength when unset, capped by the model's own maximum: a long chat, or a RAG prompt and its answer.
DEFAULT_CONTEXT = 8192
MIN_BATCH_KV_PERCENT = 8
LLAMA_CPP_AUTO_SLOTS = 4
VLLM_AUTO_MAX_NUM_SEQS = 256  # vLLM's default --max-num-seqs for the OpenAI server
TGI_AUTO_SEQUENCES = 16  # x TGI's queue factor 8 = 128, TGI's default --max-concurrent-requests


def batch_sequences(engine: Engine, max_sequences: int | None) -> int:
    """The engine's batch cap (vLLM --max-num-seqs, TGI's admission base, llama.cpp's slots before the
    memory check); what the sampler's activation memory is sized for."""
    if max_sequences is not None:
        return max_sequences
    if engine is Engine.TGI:
        return TGI_AUTO_SEQUENCES
    if engine is Engine.LLAMA_CPP:
        return 1  # the minimum; `capacity` raises it to what the memory holds
    return VLLM_AUTO_MAX_NUM_SEQS


def required_kv_bytes(
    engine: Engine,
    max_sequences: int | None,
    max_context: int,
    held_per_token: int,
    weights_bytes: int,
    prefill_tokens: int,
) -> int:
    """KV-cache bytes a replica must hold: the promise, or (Auto) the minimum of the module docstring."""
    sequence = held_per_token * max_context
    if max_sequences is not None:
        return sequence * max_sequences
    if engine is Engine.LLAMA_CPP:
        return sequence
    batch = max(held_per_token * prefill_tokens, ceil_div(weights_bytes * MIN_BATCH_KV_PERCENT, 100))
    return sequence + batch


@dataclass(frozen=True)
class KvCapacity:
    """What the chosen hardware gives one replica."""

    kv_bytes: int  # the KV cache the engine allocates (llama.cpp) or is sized for (vLLM, TGI)
    tokens: int  # KV-cache capacity in tokens
    full_sequences: int  # full maxContextLength sequences the cache holds at once
    batch: int  # the engine's concurrency cap (--max-num-seqs, --parallel)


def capacity(
    engine: Engine,
    max_sequences: int | None,
    max_context: int,
    held_per_token: int,
    sized_kv_bytes: int,
    room_bytes: int,
) -> KvCapacity:
    """`room_bytes`: the memory budget of the replica less everything but the KV cache (>= sized_kv_bytes)."""
    per_token = max(1, held_per_token)
    if engine is Engine.LLAMA_CPP:
        slots = max_sequences
        if slots is None:
            slots = max(1, min(LLAMA_CPP_AUTO_SLOTS, room_bytes // max(1, per_token * max_context)))
        return KvCapacity(per_token * max_context * slots, max_context * slots, slots, slots)
    tokens = max(room_bytes, sized_kv_bytes) // per_token
    return KvCapacity(sized_kv_bytes, tokens, tokens // max_context, batch_sequences(engine, max_sequences))
