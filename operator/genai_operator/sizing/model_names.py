"""Finding a catalog model from a model URI: repo ids first, then names with their suffixes stripped.

Quantized and fine-tuned checkpoints keep the base model's name and add tokens to it
(`Meta-Llama-3.1-70B-Instruct-AWQ-INT4`, `Llama-3.2-3B-Instruct-Q4_K_M.gguf`); those tokens say
nothing about the shape, so they are dropped before matching.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from genai_operator.sizing.types import ModelShape

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)

# Whole tokens (between dashes) that name a variant, a format or a quantization, never a shape.
_NOISE_TOKENS = frozenset(
    {
        "instruct", "chat", "it", "hf", "base", "awq", "gptq", "gguf", "ggml", "exl2", "mlx", "fp8", "fp16",
        "bf16", "f16", "f32", "int4", "int8", "dynamic", "static", "w4a16", "w8a8", "w8a16", "w4a8", "bnb",
        "4bit", "8bit", "nf4", "quantized", "marlin", "sym", "asym", "g128", "imatrix", "unsloth",
    }
)  # fmt: skip
# llama.cpp file types (Q4_K_M, IQ3_XS, Q8_0, ...) and release dates (Qwen's -2507, Mistral's -2407).
_NOISE_PATTERN = re.compile(r"^(?:i?q\d(?:_[a-z0-9]+)*|\d{4})$")


def _repo_path(uri: str) -> str:
    """Strip the scheme, a revision (`@rev`) and an OCI tag or digest from a URI."""
    path = _SCHEME.sub("", uri.strip()).strip("/")
    path = path.split("@", 1)[0]
    head, _, last = path.rpartition("/")
    # An OCI tag follows the last colon of the last element (a registry port sits in the first one).
    last = last.split(":", 1)[0]
    return f"{head}/{last}" if head else last


def base_name(name: str) -> str:
    """`Qwen2.5-7B-Instruct-GPTQ-Int4` -> `qwen2.5-7b`; `gemma-2-9b-it.Q4_K_M.gguf` -> `gemma-2-9b`."""
    name = name.lower()
    for extension in (".gguf", ".safetensors", ".bin"):
        name = name.removesuffix(extension)
    # GGUF files often join the quant type with a dot: `model.Q4_K_M`.
    stem, dot, tail = name.rpartition(".")
    if dot and _NOISE_PATTERN.match(tail):
        name = stem
    tokens = [t for t in name.split("-") if t and t not in _NOISE_TOKENS and not _NOISE_PATTERN.match(t)]
    return "-".join(tokens)


def _index(models: Iterable[ModelShape]) -> tuple[dict[str, ModelShape], dict[str, ModelShape]]:
    by_repo: dict[str, ModelShape] = {}
    by_name: dict[str, ModelShape] = {}
    for model in models:
        by_name.setdefault(model.key, model)
        for alias in model.aliases:
            by_repo.setdefault(alias.lower(), model)
            by_name.setdefault(base_name(alias.rsplit("/", 1)[-1]), model)
    return by_repo, by_name


def _contains_tokens(haystack: str, needle: str) -> bool:
    """Whether `needle` occurs in `haystack` on dash boundaries (`llama-3.1-8b` in `my-llama-3.1-8b-v2`)."""
    return f"-{needle}-" in f"-{haystack}-"


def _elements(path: str) -> Iterator[str]:
    """Path elements from the last to the second: the model name is usually last, and the first
    element is a bucket, a registry host or an organization, never a model."""
    elements = [element for element in path.split("/") if element]
    yield from reversed(elements[1:] if len(elements) > 1 else elements)


def find_model(uri: str, models: Iterable[ModelShape]) -> ModelShape | None:
    by_repo, by_name = _index(models)
    path = _repo_path(uri).lower()
    parts = path.split("/")
    for candidate in (path, "/".join(parts[:2])):
        if candidate in by_repo:
            return by_repo[candidate]
    # Longest names first, so `qwen2.5-72b` is never read as a shorter name inside it.
    names = sorted(by_name, key=len, reverse=True)
    for element in _elements(path):
        stripped = base_name(element)
        if not stripped:
            continue
        if stripped in by_name:
            return by_name[stripped]
        for name in names:
            if _contains_tokens(stripped, name):
                return by_name[name]
    return None
