"""An embedding or reranking model on one pool (pure): one GPU of the allowed types per replica, or a CPU
replica sized against the pool's largest node (sizing/encoders.py has the rules)."""

from __future__ import annotations

from collections.abc import Sequence

from genai_operator.placement.types import Pool
from genai_operator.sizing.encoders import size_encoder, size_encoder_cpu, with_request_defaults
from genai_operator.sizing.types import GpuType, SizingDecision, SizingRequest


def size_encoder_on(
    pool: Pool, request: SizingRequest, gpus: Sequence[GpuType], why_not: str | None, unknown_node_bytes: int
) -> SizingDecision | str:
    """The sizing for `pool`, or the reason the model cannot go there (`why_not`: no allowed GPU type)."""
    request = with_request_defaults(request)
    if pool.cpu_only:
        memory = pool.capacity.max_memory_bytes_per_node if pool.capacity and pool.capacity.nodes else 0
        decision = size_encoder_cpu(request, memory or unknown_node_bytes)
    elif not gpus:
        return why_not or f"pool {pool.name}: no allowed GPU type"
    else:
        decision = size_encoder(request, gpus)
    if not decision.fits:
        return f"pool {pool.name}: " + "; ".join(decision.reasons)
    return decision
