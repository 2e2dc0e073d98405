"""Packing replicas onto the nodes of pools while a plan is made: free GPUs and memory per node, best fit.

A replica's GPUs must come from one node, so what matters is not the pool's free total but the free
count per node. Each replica goes to the node with the least room that still takes it (best fit),
which keeps whole nodes free for tensor-parallel replicas. GPU nodes are kept as a histogram
(free GPUs -> nodes), so a placement costs a few dictionary steps whatever the pool's size; CPU
nodes as a sorted list of free memory (what a llama.cpp replica may still take there).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from genai_operator.placement.types import Pool, PoolCapacity
from genai_operator.sizing.overhead import cpu_budget_bytes


@dataclass
class Placed:
    """What happened to one pool's share of a ModelDeployment."""

    on_nodes: int = 0  # replicas that found a node with room
    waiting: int = 0  # replicas for nodes the pool adds on demand (autoscaled, or none there yet)
    pending: int = 0  # replicas with no room anywhere in the pool


class PoolLedger:
    """The free capacity of one pool as replicas are placed on it."""

    def __init__(self, pool: Pool) -> None:
        cap = pool.capacity
        self.pool = pool
        self.initial = cap
        self.known = cap is not None
        self.on_demand = pool.autoscaled or (cap is not None and cap.nodes == 0)
        self._gpus: Counter[int] = Counter(cap.free_gpus_per_node if cap else ())
        memory = list(cap.free_memory_bytes_per_node) if cap else []
        if cap is not None and pool.cpu_only and not memory and cap.nodes:
            memory = [cpu_budget_bytes(cap.max_memory_bytes_per_node)] * cap.nodes  # nodes alike
        self._memory = sorted(memory)
        self.used_gpus = 0
        self.used_bytes = 0
        self.replicas = 0
        self.waiting = 0
        self.pending = 0  # replicas that found no room
        self.short_gpus = 0  # the GPUs those replicas would take
        self._snapshot: PoolCapacity | None = cap

    def take(self, gpus_per_replica: int, bytes_per_replica: int, replicas: int, nodes: int = 1) -> Placed:
        """Place `replicas` replicas one by one, best fit; what finds no node waits or stays pending.
        A replica of `nodes` > 1 nodes is a group: `gpus_per_replica` GPUs on each of `nodes` nodes, or none."""
        placed = Placed()
        for _ in range(max(replicas, 0)):
            if not self.known or self._take_group(gpus_per_replica, bytes_per_replica, nodes):
                placed.on_nodes += 1
            elif self.on_demand:
                placed.waiting += 1
            else:
                placed.pending += 1
        counted = placed.on_nodes + placed.waiting
        self.replicas += counted
        self.waiting += placed.waiting
        self.pending += placed.pending
        self.short_gpus += placed.pending * max(gpus_per_replica, 0) * nodes
        self.used_gpus += counted * max(gpus_per_replica, 0) * nodes
        if gpus_per_replica <= 0:
            self.used_bytes += counted * bytes_per_replica
        if placed.on_nodes and self.known:
            self._snapshot = None
        return placed

    def _take_group(self, gpus: int, size: int, nodes: int) -> bool:
        if nodes <= 1 or gpus <= 0:
            return self._take_one(gpus, size)
        if sum(count for free, count in self._gpus.items() if free >= gpus) < nodes:
            return False
        for _ in range(nodes):
            self._take_one(gpus, size)
        return True

    def _take_one(self, gpus: int, size: int) -> bool:
        if gpus > 0:
            fitting = [free for free, nodes in self._gpus.items() if nodes and free >= gpus]
            if not fitting:
                return False
            best = min(fitting)
            self._gpus[best] -= 1
            self._gpus[best - gpus] += 1
            return True
        index = bisect_left(self._memory, size)
        if size <= 0 or index == len(self._memory):
            return False
        free = self._memory.pop(index)
        insort(self._memory, free - size)
        return True

    @property
    def free_gpus(self) -> tuple[int, ...]:
        """Free GPUs per node, largest first."""
        return tuple(free for free in sorted(self._gpus, reverse=True) for _ in range(self._gpus[free]))

    @property
    def free_memory(self) -> tuple[int, ...]:
        return tuple(reversed(self._memory))

    def capacity(self) -> PoolCapacity | None:
        """The pool's capacity after the placements so far (what the next model is planned against)."""
        if self._snapshot is None and self.initial is not None:
            free = self.free_gpus
            self._snapshot = replace(
                self.initial,
                gpus_requested=self.initial.gpus_requested + (sum(self.initial.free_gpus_per_node) - sum(free)),
                max_gpus_per_node=max(free, default=0),
                free_gpus_per_node=free,
                free_memory_bytes_per_node=self.free_memory if self.pool.cpu_only else (),
            )
        return self._snapshot


class Ledger:
    """Every pool's ledger, and the pool list with current capacity for the planner."""

    def __init__(self, pools: Iterable[Pool]) -> None:
        self.pools: dict[str, PoolLedger] = {p.name: PoolLedger(p) for p in pools}
        self._current = [ledger.pool for ledger in self.pools.values()]
        self._position = {p.name: index for index, p in enumerate(self._current)}
        self._dirty: set[str] = set()

    def take(self, pool: str, gpus_per_replica: int, bytes_per_replica: int, replicas: int, nodes: int = 1) -> Placed:
        ledger = self.pools[pool]
        placed = ledger.take(gpus_per_replica, bytes_per_replica, replicas, nodes)
        if placed.on_nodes and ledger.known:
            self._dirty.add(pool)
        return placed

    def current(self) -> Sequence[Pool]:
        """Pools with the capacity left; only pools that changed since the last call are rebuilt."""
        for name in self._dirty:
            index = self._position[name]
            self._current[index] = replace(self._current[index], capacity=self.pools[name].capacity())
        self._dirty.clear()
        return self._current


def consume(pool: Pool, gpus_per_replica: int, replicas: int, bytes_per_replica: int = 0) -> Pool:
    """The pool after `replicas` more replicas took their GPUs (or, on CPU pools, their memory)."""
    if pool.capacity is None or replicas <= 0:
        return pool
    ledger = PoolLedger(pool)
    ledger.take(gpus_per_replica, bytes_per_replica, replicas)
    return replace(pool, capacity=ledger.capacity())
