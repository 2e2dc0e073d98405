"""The engine profiles by API enum value."""

from __future__ import annotations

from genai_operator.api.enums import Engine
from genai_operator.engines.base import EngineProfile
from genai_operator.engines.llamacpp import LlamaCppEngine
from genai_operator.engines.sglang import SglangEngine
from genai_operator.engines.tei import TeiEngine
from genai_operator.engines.tgi import TgiEngine
from genai_operator.engines.vllm import VllmEngine

PROFILES: dict[Engine, EngineProfile] = {
    Engine.VLLM: VllmEngine(),
    Engine.LLAMA_CPP: LlamaCppEngine(),
    Engine.TGI: TgiEngine(),
    Engine.SGLANG: SglangEngine(),
    Engine.TEI: TeiEngine(),
}


def engine_profile(engine: Engine) -> EngineProfile:
    """The profile of a resolved engine; Auto must be resolved by placement first."""
    try:
        return PROFILES[engine]
    except KeyError:
        known = ", ".join(e.value for e in PROFILES)
        raise ValueError(f"engine {engine.value} is not resolved: placement picks one of {known}") from None
