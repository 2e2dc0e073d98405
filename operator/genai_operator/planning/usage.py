"""Per-pool usage and the summary line of a plan: GPUs used against a lower bound.

The lower bound of one placed replica is ceil(total bytes per replica / per-GPU budget of its GPU
type), where the budget is what the replica's engine lets itself use on one GPU (vLLM: usable memory x
gpuMemoryUtilizationPercent, less the CUDA context; TGI: usable less 5%; llama.cpp: usable less a
reserve; sizing/overhead.py). No placement can give a replica fewer GPUs of that type: its engine
would run out of memory. It is tighter than dividing by the GPU's usable memory (which counts memory
no engine hands out) and is never above the GPUs the sizing layer chose, since a count that fits
holds total / count <= budget. The plan's bound is the sum over placed replicas; GPUs used above it
come from tensor-parallel sizes being 1, 2, 4 or 8, not from packing (a replica always takes exactly
its GPU count). Packing shows in replicas left pending while GPUs sit free.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from genai_operator.placement.packing import Ledger, Placed
from genai_operator.placement.types import PoolAssignment
from genai_operator.sizing.overhead import gpu_budget_bytes


@dataclass(frozen=True)
class PoolUsage:
    """One pool after the plan. GPU figures are whole GPUs on ready, schedulable nodes; None: unknown."""

    name: str
    tier: str
    gpu: str  # catalog key, "cpu", or "?" (not detected)
    nodes: int | None
    gpus_total: int | None
    gpus_used: int  # by this plan, including replicas that wait for nodes
    gpus_free: int | None
    largest_free: int | None  # most GPUs free on one node: the largest replica the pool can still take
    replicas: int
    waiting: int
    pending: int  # replicas that found no room here
    gpus_short: int  # GPUs those replicas would need (on nodes with enough free GPUs each)
    memory_used: int  # CPU pools: bytes of llama.cpp replicas
    memory_free: int | None
    slices: bool = False  # a MIG slice pool: its "GPUs" are slices, left out of the summary's GPU figures


@dataclass(frozen=True)
class PlanSummary:
    models: int
    models_fitting: int
    on_nodes: int
    waiting: int
    pending: int
    gpus_used: int
    gpus_bound: int
    gpus_total: int | None
    order: str
    gpu_bytes_needed: int = 0  # by the GPU replicas placed (their total bytes)
    gpu_bytes_given: int = 0  # usable memory of the GPUs they got: above the need by TP rounding and GPU type

    @property
    def ratio(self) -> float | None:
        return self.gpus_used / self.gpus_bound if self.gpus_bound else None

    @property
    def line(self) -> str:
        ratio = f"{self.ratio:.2f}" if self.ratio is not None else "-"
        total = f" of {self.gpus_total:,}" if self.gpus_total is not None else ""
        unfit = self.models - self.models_fitting
        memory = ""
        if self.gpu_bytes_needed:
            memory = f", GPU memory {self.gpu_bytes_given / self.gpu_bytes_needed:.2f}x the need"
        return (
            f"GPUs used {self.gpus_used:,}{total}, lower bound {self.gpus_bound:,} (ratio {ratio}{memory}); "
            f"replicas placed {self.on_nodes:,}, waiting for nodes {self.waiting:,}, pending {self.pending:,}; "
            f"{unfit} of {self.models} model(s) do not fit; packed in {self.order}"
        )

    def as_dict(self) -> dict[str, Any]:
        """camelCase, like the rest of the JSON the command prints."""
        fields = {_camel(k): v for k, v in asdict(self).items()}
        return {**fields, "ratio": self.ratio, "line": self.line}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(w.title() for w in rest)


def replica_gpu_bound(assignment: PoolAssignment, utilization_percent: int) -> int:
    """GPUs of its type one replica needs at the least (see the module docstring); 0 on CPU."""
    sizing = assignment.sizing
    if sizing.gpu is None or sizing.gpus_per_replica <= 0:
        return 0
    if sizing.nodes > 1:
        return sizing.total_gpus  # a group holds whole nodes (exclusive placement), however little it fills
    budget = gpu_budget_bytes(sizing.gpu, assignment.engine, utilization_percent)
    if budget <= 0:
        return sizing.total_gpus
    # Capped at the chosen count: a bound above it would be a sizing bug, not a packing fact.
    return min(max(-(-sizing.estimate.total_bytes // budget), 1), sizing.total_gpus)


def pool_usage(ledger: Ledger) -> list[PoolUsage]:
    rows = []
    for book in ledger.pools.values():
        pool, cap = book.pool, book.initial
        known = cap is not None
        rows.append(
            PoolUsage(
                name=pool.name,
                tier=pool.tier.value,
                gpu="cpu" if pool.cpu_only else (pool.gpu.key if pool.gpu else "?"),
                nodes=cap.nodes if cap else None,
                gpus_total=cap.gpus_allocatable if cap and not pool.cpu_only else None,
                gpus_used=book.used_gpus,
                gpus_free=sum(book.free_gpus) if known and not pool.cpu_only else None,
                largest_free=max(book.free_gpus, default=0) if known and not pool.cpu_only else None,
                replicas=book.replicas,
                waiting=book.waiting,
                pending=book.pending,
                gpus_short=book.short_gpus,
                memory_used=book.used_bytes,
                memory_free=sum(book.free_memory) if known and pool.cpu_only else None,
                slices=pool.slices is not None,
            )
        )
    return rows


def summarize(
    entries: Sequence[dict[str, Any]],
    usage: Sequence[PoolUsage],
    placed: Sequence[Placed],
    gpus: tuple[int, int, int, int],  # used, lower bound, bytes needed, bytes given
    order: str,
) -> PlanSummary:
    totals = [u.gpus_total for u in usage if u.gpus_total is not None and not u.slices]
    return PlanSummary(
        models=len(entries),
        models_fitting=sum(1 for e in entries if e["fits"]),
        on_nodes=sum(p.on_nodes for p in placed),
        waiting=sum(p.waiting for p in placed),
        pending=sum(p.pending for p in placed),
        gpus_used=gpus[0],
        gpus_bound=gpus[1],
        gpus_total=sum(totals) if totals else None,
        order=order,
        gpu_bytes_needed=gpus[2],
        gpu_bytes_given=gpus[3],
    )
