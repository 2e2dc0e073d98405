"""The model a ModelDeployment names, as sizing needs it: parameter count and attention shape (pure).

From spec.model.parameters and spec.model.architecture, the model catalog, or a heuristic on the count, in
that order; a spec that leaves sizing nothing to go on is a SpecError naming the field to set.
"""

from __future__ import annotations

from genai_operator.api.modeldeployment import ModelDeploymentSpec
from genai_operator.sizing.encoder_catalog import lookup_encoder
from genai_operator.sizing.model_catalog import lookup_model, parse_parameter_count, shape_from_parameters
from genai_operator.sizing.types import ModelShape


class SpecError(ValueError):
    """A spec that passed the schema but cannot be planned; `field` names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(
            message if message.startswith(field) or "/" in message.split(":")[0] else f"{field}: {message}"
        )
        self.field = field


def model_shape(spec: ModelDeploymentSpec) -> tuple[int, ModelShape]:
    """Parameter count and attention shape from the spec, the catalog, or a heuristic, in that order."""
    source = spec.model
    known = lookup_model(source.uri) or lookup_encoder(source.uri)
    parameters: int | None = None
    if source.parameters:
        try:
            parameters = parse_parameter_count(source.parameters)
        except ValueError as exc:
            raise SpecError("spec.model.parameters", f"{exc}; write a count such as 8B or 500M") from None
    if source.architecture is not None:
        arch = source.architecture
        params = parameters or (known.parameters if known else None)
        if params is None:
            raise SpecError(
                "spec.model.parameters",
                "needed with spec.model.architecture for a model the catalog does not know; write a count such as 8B",
            )
        shape = ModelShape(
            key="custom",
            aliases=(),
            parameters=params,
            layers=arch.layers,
            attention_heads=arch.attention_heads or max(arch.hidden_size // arch.head_dim, arch.kv_heads),
            kv_heads=arch.kv_heads,
            head_dim=arch.head_dim,
            hidden_size=arch.hidden_size,
            vocab_size=arch.vocab_size,
            experts=arch.experts,
        )
        return params, shape
    if known is not None:
        return parameters or known.parameters, known
    if parameters is None:
        raise SpecError(
            "spec.model.parameters",
            f"the model catalog does not know {source.uri}; set "
            "spec.model.parameters (e.g. 8B) and, for an exact KV-cache size, spec.model.architecture",
        )
    return parameters, shape_from_parameters(parameters)
