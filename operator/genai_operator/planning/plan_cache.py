"""`plan_pool` memoized per ModelDeployment and hardware class of pool, for planning many models at once.

Sizing a model on a pool reads only the pool's hardware and engine defaults (tier, GPU type, CPU-only,
engine defaults, architecture, and for CPU pools the memory of its largest node), never its free
capacity. Pools that agree on those (150 store pools of alike CPU nodes, say) size a model alike, so
`plan` sizes each model once per class instead of once per pool: 1,000 models over 160 pools is then
about 20,000 sizings fewer than 160,000. The key below must follow what `planning.plan_pool` reads;
tests/unit/planning/test_plan_packing.py checks that cached and uncached plans agree on the sample and synthetic
inventories.
"""

from __future__ import annotations

from collections.abc import Hashable

from genai_operator.api.modeldeployment import ModelDeploymentSpec
from genai_operator.placement.types import Pool
from genai_operator.planning.mig_plan import with_slice_choice
from genai_operator.planning.plan import PoolPlan, plan_pool
from genai_operator.settings import Settings


def hardware_class(pool: Pool) -> Hashable:
    """What `plan_pool` reads of a pool, apart from its name (which only appears in messages)."""
    cap = pool.capacity
    defaults = pool.engine_defaults.model_dump_json() if pool.engine_defaults is not None else None
    memory = cap.max_memory_bytes_per_node if cap is not None and cap.nodes and pool.cpu_only else 0
    return (pool.tier, pool.cpu_only, pool.gpu, pool.gpu_resource, pool.arch, defaults, memory, pool.slices)


class PoolPlanCache:
    """A drop-in `planner` for `plan_model_deployment` that sizes each (model, hardware class) once."""

    def __init__(self) -> None:
        self._classes: dict[str, Hashable] = {}  # by pool name: a pool's hardware never changes mid-plan
        self._plans: dict[tuple[int, Hashable], tuple[str, PoolPlan | str]] = {}

    def __call__(self, spec: ModelDeploymentSpec, pool: Pool, settings: Settings) -> PoolPlan | str:
        cls = self._classes.get(pool.name)
        if cls is None:
            cls = self._classes[pool.name] = hardware_class(pool)
        # id(spec): the specs live as long as the plan, and pydantic models do not hash.
        key = (id(spec), cls)
        cached = self._plans.get(key)
        if cached is not None:
            source, result = cached
            if isinstance(result, PoolPlan):
                # The pool object carries the free capacity the replica split reads: use the current one.
                if result.pool is not pool:
                    result = PoolPlan(
                        pool=with_slice_choice(pool, result.pool), engine=result.engine, sizing=result.sizing
                    )
                return result
            prefix = f"pool {source}"
            rest = result[len(prefix) :]
            if result.startswith(prefix) and rest[:1] in (" ", ":"):
                return f"pool {pool.name}{rest}"
        result = plan_pool(spec, pool, settings)
        self._plans[key] = (pool.name, result)
        return result
