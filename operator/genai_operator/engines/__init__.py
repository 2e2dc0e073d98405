"""Inference engines: image, command line, probes, resources and metric names per engine (pure)."""

from genai_operator.engines.base import EngineContext, EngineMetrics, EnginePlan, EngineProfile
from genai_operator.engines.registry import engine_profile
from genai_operator.engines.source import UnsupportedModelSourceError

__all__ = [
    "EngineContext",
    "EngineMetrics",
    "EnginePlan",
    "EngineProfile",
    "UnsupportedModelSourceError",
    "engine_profile",
]
