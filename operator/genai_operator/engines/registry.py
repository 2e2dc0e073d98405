"""The engine profiles by API enum value."""

from __future__ import annotations

from genai_operator.api.enums import Engine
from genai_operator.engines.base import EngineProfile
from genai_operator.engines.llamacpp import LLAMA_CPP_PROFILE
from genai_operator.engines.sglang import SGLANG_PROFILE
from genai_operator.engines.tei import TEI_PROFILE
from genai_operator.engines.tgi import TGI_PROFILE
from genai_operator.engines.vllm import VLLM_PROFILE

PROFILES: dict[Engine, EngineProfile] = {
    Engine.VLLM: VLLM_PROFILE,
    Engine.LLAMA_CPP: LLAMA_CPP_PROFILE,
    Engine.TGI: TGI_PROFILE,
    Engine.SGLANG: SGLANG_PROFILE,
    Engine.TEI: TEI_PROFILE,
}


def engine_profile(engine: Engine) -> EngineProfile:
    """The profile of a resolved engine; Auto must be resolved by placement first."""
    try:
        return PROFILES[engine]
    except KeyError:
        known = ", ".join(e.value for e in PROFILES)
        raise ValueError(f"engine {engine.value} is not resolved: placement picks one of {known}") from None
