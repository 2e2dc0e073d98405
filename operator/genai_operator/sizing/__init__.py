"""Sizing: how much memory a model needs and on which GPUs (and how many) a replica fits.

Pure functions over plain values; see `estimator.size_model` for the decision.
"""

from genai_operator.sizing.estimator import estimate_memory, size_for_cpu, size_model
from genai_operator.sizing.gpu_catalog import all_gpus, gpu_by_key, gpu_by_product
from genai_operator.sizing.model_catalog import (
    all_models,
    lookup_model,
    parse_parameter_count,
    shape_from_parameters,
)

__all__ = [
    "all_gpus",
    "all_models",
    "estimate_memory",
    "gpu_by_key",
    "gpu_by_product",
    "lookup_model",
    "parse_parameter_count",
    "shape_from_parameters",
    "size_for_cpu",
    "size_model",
]
