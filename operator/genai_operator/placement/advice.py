"""What would make a model fit when its hardware exists but the pools are full: capacity-side advice.

The sizing layer already says what to change in the spec when no GPU type can hold a model; this
module covers the other case, where a replica has a size and a pool but no node with room for it.
"""

from __future__ import annotations

from genai_operator.formats.quantity import gib_text
from genai_operator.placement.packing import Placed, PoolLedger
from genai_operator.sizing.overhead import cpu_budget_bytes


def capacity_advice(ledger: PoolLedger, gpus_per_replica: int, bytes_per_replica: int, placed: Placed) -> list[str]:
    """Advice for the replicas of one pool share that found no node, read right after they were placed."""
    pool = ledger.pool
    out: list[str] = []
    if placed.waiting:
        if pool.autoscaled:
            out.append(f"{placed.waiting} replica(s) wait for pool {pool.name} to add nodes (autoscaled)")
        else:
            need = f"{gpus_per_replica} {_gpu(ledger)} GPUs" if gpus_per_replica else f"{gib_text(bytes_per_replica)}"
            out.append(
                f"pool {pool.name} has no ready, schedulable node: {placed.waiting} replica(s) wait; "
                f"add nodes with {need} or make its nodes ready and schedulable"
            )
    if placed.pending:
        if gpus_per_replica > 0:
            out.append(_gpu_advice(ledger, gpus_per_replica, placed.pending))
        else:
            out.append(_memory_advice(ledger, bytes_per_replica, placed.pending))
    return out


def _gpu(ledger: PoolLedger) -> str:
    return ledger.pool.gpu.key if ledger.pool.gpu else "GPU"


def _gpu_advice(ledger: PoolLedger, gpus: int, pending: int) -> str:
    name, kind = ledger.pool.name, _gpu(ledger)
    initial = ledger.initial
    # The most GPUs free on one node before the plan: offline (nothing requested yet) the node size.
    largest = initial.max_gpus_per_node if initial else 0
    free = ledger.free_gpus
    if largest < gpus and initial is not None and initial.gpus_requested == 0:
        return (
            f"a replica needs {gpus} {kind} GPUs on one node but the nodes of pool {name} have at most "
            f"{largest}: fits on nodes with at least {gpus} {kind} GPUs"
        )
    if sum(free) >= pending * gpus:
        return (
            f"fits if pool {name} had {pending} free node(s) with {gpus} {kind} GPUs: its {sum(free)} free "
            f"GPUs are spread over nodes with at most {max(free, default=0)} free each"
        )
    if largest < gpus:
        return (
            f"a replica needs {gpus} {kind} GPUs on one node but no node of pool {name} has more than "
            f"{largest} free: fits on nodes with at least {gpus} {kind} GPUs"
        )
    nodes = -(-pending // (largest // gpus))
    return f"needs {pending * gpus} more {kind} GPUs in pool {name} ({nodes} more node(s) with {largest} GPUs)"


def _memory_advice(ledger: PoolLedger, size: int, pending: int) -> str:
    name = ledger.pool.name
    node_memory = ledger.initial.max_memory_bytes_per_node if ledger.initial else 0
    free = ledger.free_memory
    if sum(free) >= pending * size:
        return (
            f"fits if pool {name} had {pending} node(s) with {gib_text(size)} free for llama.cpp: its "
            f"{gib_text(sum(free))} free are spread over nodes with at most {gib_text(max(free, default=0))} each"
        )
    per_node = cpu_budget_bytes(node_memory) // size if size > 0 else 0
    nodes = -(-pending // per_node) if per_node else pending
    return (
        f"needs {nodes} more node(s) with {gib_text(node_memory)} of memory in pool {name} "
        f"for {pending} replica(s) of {gib_text(size)}"
    )
