"""Host memory of a warm-standby replica (vLLM sleep mode), per pod.

Sleep level 1 copies everything vLLM allocated under its "weights" tag (the weights, and the LoRA slots
reserved beside them) into pinned CPU memory and frees the GPU copy; the KV cache is discarded. Pinned
pages cannot be swapped or reclaimed, so the pod's memory request and limit must hold those bytes on top of
what the engine needs awake, or the kernel kills the pod when it goes to sleep.
"""

from __future__ import annotations

from genai_operator.sizing.types import MemoryEstimate

WEIGHTS_TO_CPU_LEVEL = 1  # the level that keeps the weights (level 2 discards them)


def standby_host_bytes(estimate: MemoryEstimate, level: int) -> int:
    """Bytes a sleeping replica holds in its pod's CPU memory at `level` (single-node replicas only)."""
    return estimate.weights_bytes + estimate.lora_bytes if level == WEIGHTS_TO_CPU_LEVEL else 0
