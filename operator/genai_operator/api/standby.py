"""Warm standby (`spec.scaling.warmStandby`): replicas kept loaded but asleep instead of scaled to zero.

vLLM's sleep mode level 1 moves the weights to the pod's CPU memory and frees the KV cache; waking them
up is an API call that takes seconds, against minutes for a cold start (download, load, compile). The
autoscaler keeps `replicas` pods instead of zero, and the operator puts them to sleep once the
autoscaler's signal has said idle for `idleSeconds`, and wakes them when it says active.
"""

from __future__ import annotations

from pydantic import Field

from genai_operator.api.base import ApiModel


class WarmStandby(ApiModel):
    """Between zero and one: replicas that stay loaded, asleep, while the autoscaler's signal says idle."""

    enabled: bool = Field(default=True, description="Off keeps the block but scales to zero as without it.")
    replicas: int = Field(
        default=1,
        ge=1,
        le=16,
        description="Replicas the autoscaler keeps instead of zero (KEDA minReplicaCount); asleep while idle.",
    )
    idle_seconds: int = Field(
        default=300,
        ge=0,
        le=86400,
        description="How long the autoscaler's signal (the ScaledObject's Active condition) must say idle before "
        "the replicas are put to sleep; an active signal wakes them at once.",
    )
    level: int = Field(
        default=1,
        ge=1,
        le=1,
        description="vLLM sleep level: 1 moves the weights to CPU memory (the pod's memory request holds them) "
        "and frees the KV cache. Level 2 discards the weights, so waking would mean reloading them: not offered.",
    )


class StandbyStatus(ApiModel):
    """What warm standby did last: which pods sleep, when they went to sleep or woke up, the last failure."""

    state: str = Field(description="Awake, Asleep, WaitingForIdle or Unknown (no signal from the autoscaler yet).")
    sleeping_replicas: int = Field(default=0, ge=0, description="Pods asleep now.")
    sleeping_pods: list[str] | None = Field(default=None, description="Names of the pods the operator put to sleep.")
    host_memory_bytes_per_replica: int | None = Field(
        default=None, ge=0, description="CPU memory a sleeping replica holds its weights in (level 1)."
    )
    idle_since: str | None = Field(
        default=None,
        description="Since when the autoscaler's signal has said idle.",
        json_schema_extra={"format": "date-time"},
    )
    last_sleep_time: str | None = Field(
        default=None, description="When pods were last put to sleep.", json_schema_extra={"format": "date-time"}
    )
    last_wake_time: str | None = Field(
        default=None, description="When pods were last woken up.", json_schema_extra={"format": "date-time"}
    )
    last_error: str | None = Field(default=None, description="The last failed sleep or wake-up call, if any.")
    last_error_time: str | None = Field(
        default=None, description="When the last call failed.", json_schema_extra={"format": "date-time"}
    )
    failures: int | None = Field(default=None, ge=0, description="Failed calls in a row (they back off).")
