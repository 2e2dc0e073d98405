"""vLLM sleep mode for warm standby (spec.scaling.warmStandby): the flag, the environment, the host memory.

`--enable-sleep-mode` makes vLLM allocate weights and KV cache through its CuMem allocator, so they can be
offloaded and freed; the HTTP endpoints that drive it (POST /sleep?level=1, POST /wake_up, GET
/is_sleeping) are served only with VLLM_SERVER_DEV_MODE=1 (vLLM docs, features/sleep_mode.md). That
variable also turns on vLLM's other development endpoints, which is why the README asks for a
NetworkPolicy with warm standby.
"""

from __future__ import annotations

from genai_operator.api.enums import Engine
from genai_operator.api.scaling import standby_of
from genai_operator.engines.base import EngineContext
from genai_operator.sizing.standby import standby_host_bytes

SLEEP_MODE_FLAG = "--enable-sleep-mode"
DEV_MODE_ENV = {"VLLM_SERVER_DEV_MODE": "1"}


def sleep_mode_args(ctx: EngineContext) -> list[str]:
    return [SLEEP_MODE_FLAG] if standby_of(ctx.spec.scaling) else []


def sleep_mode_env(ctx: EngineContext) -> dict[str, str]:
    return dict(DEV_MODE_ENV) if standby_of(ctx.spec.scaling) else {}


def standby_memory_bytes(ctx: EngineContext) -> int:
    """CPU memory the pod needs beyond its awake figure while its replica sleeps (vLLM GPU replicas only)."""
    standby = standby_of(ctx.spec.scaling)
    if standby is None or ctx.gpu is None or ctx.assignment.engine != Engine.VLLM:
        return 0
    return standby_host_bytes(ctx.sizing.estimate, standby.level)
