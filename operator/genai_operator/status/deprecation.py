"""Engines the operator still serves but no longer recommends, and what SpecValid says about them.

TGI: Hugging Face put text-generation-inference in maintenance mode (its README and documentation: "we
will accept pull requests for minor bug fixes, documentation improvements and lightweight maintenance
tasks"; they recommend vLLM, SGLang, llama.cpp or MLX). It keeps working here; a ModelDeployment placed on
TGI reports SpecValid=True with reason Deprecated and the advice, so `kubectl describe` shows it, and one
Warning event `Deprecated` when that starts (status/events.py).
"""

from __future__ import annotations

from genai_operator.api.enums import Engine
from genai_operator.placement.types import PlacementDecision

DEPRECATED = "Deprecated"
ADVICE: dict[Engine, str] = {
    Engine.TGI: "engine TGI is in maintenance mode upstream: consider VLLM or SGLang",
}


def spec_valid(decision: PlacementDecision) -> tuple[str, str]:
    """Reason and message of SpecValid=True: plain, or Deprecated with the advice for an engine in use."""
    message = "the spec was sized and placed"
    engines = dict.fromkeys(a.engine for a in decision.assignments)
    advice = [ADVICE[engine] for engine in engines if engine in ADVICE]
    if advice:
        return DEPRECATED, f"{message}; " + "; ".join(advice)
    return "SpecValid", message
