"""Model catalog: config.json shapes (cross-checked against parameter counts), URI lookup, parameter
count parsing, and the heuristic shape for unknown models."""

from __future__ import annotations

import pytest

from genai_operator.sizing.model_catalog import (
    all_models,
    lookup_model,
    model_by_key,
    parse_parameter_count,
    shape_from_parameters,
)
from genai_operator.sizing.types import ModelShape

# intermediate_size (moe_intermediate_size for MoE) from each config.json, and whether the attention
# projections carry biases (Qwen2.5). ModelShape does not need them; they let the test re-derive the
# published parameter count from the shape, which catches a mistyped layer, head or vocab figure.
INTERMEDIATE: dict[str, tuple[int, bool]] = {
    "llama-3.2-1b": (8192, False),
    "llama-3.2-3b": (8192, False),
    "llama-3.1-8b": (14336, False),
    "llama-3.1-70b": (28672, False),
    "llama-3.3-70b": (28672, False),
    "llama-3.1-405b": (53248, False),
    "llama-3-8b": (14336, False),
    "llama-3-70b": (28672, False),
    "llama-2-7b": (11008, False),
    "llama-2-13b": (13824, False),
    "llama-2-70b": (28672, False),
    "deepseek-r1-distill-llama-8b": (14336, False),
    "tinyllama-1.1b": (5632, False),
    "mistral-7b-v0.3": (14336, False),
    "mixtral-8x7b": (14336, False),
    "mixtral-8x22b": (16384, False),
    "qwen2.5-0.5b": (4864, True),
    "qwen2.5-1.5b": (8960, True),
    "qwen2.5-3b": (11008, True),
    "qwen2.5-7b": (18944, True),
    "qwen2.5-14b": (13824, True),
    "qwen2.5-32b": (27648, True),
    "qwen2.5-72b": (29568, True),
    "qwen3-8b": (12288, False),
    "qwen3-30b-a3b": (768, False),
    "gemma-2-2b": (9216, False),
    "gemma-2-9b": (14336, False),
    "gemma-2-27b": (36864, False),
    "phi-3-mini-4k": (8192, False),
    "phi-3-mini-128k": (8192, False),
    "phi-3.5-mini": (8192, False),
}


def derived_parameters(model: ModelShape, intermediate: int, qkv_bias: bool) -> int:
    h, heads, kv, d = model.hidden_size, model.attention_heads, model.kv_heads, model.head_dim
    attention = 2 * h * heads * d + 2 * h * kv * d + ((heads + 2 * kv) * d if qkv_bias else 0)
    experts = max(1, model.experts)
    mlp = experts * 3 * h * intermediate + (h * model.experts)  # experts (or the dense MLP) + router
    norms = 2 * h
    if model.key.startswith("gemma-2"):
        norms = 4 * h  # pre- and post-norms around attention and MLP
    if model.key.startswith("qwen3"):
        norms += 2 * d  # q_norm and k_norm
    embeddings = model.vocab_size * h * (1 if model.tied_embeddings else 2)
    return model.layers * (attention + mlp + norms) + embeddings + h  # + the final norm


def test_catalog_size_and_keys() -> None:
    models = all_models()
    assert len(models) >= 22
    keys = [m.key for m in models]
    assert len(keys) == len(set(keys))
    assert all(alias == alias.lower() and "/" in alias for m in models for alias in m.aliases)
    aliases = [alias for m in models for alias in m.aliases]
    assert len(aliases) == len(set(aliases))


@pytest.mark.parametrize("key", sorted(INTERMEDIATE))
def test_parameter_count_matches_the_shape(key: str) -> None:
    model = model_by_key(key)
    assert model is not None
    assert derived_parameters(model, *INTERMEDIATE[key]) == model.parameters


def test_gpt_oss_parameter_count_is_close_to_its_shape() -> None:
    # gpt-oss adds expert biases and attention sinks the generic formula leaves out.
    model = model_by_key("gpt-oss-20b")
    assert model is not None and model.experts == 32
    assert derived_parameters(model, 2880, True) == pytest.approx(model.parameters, rel=1e-3)


def test_moe_models_know_their_active_parameters() -> None:
    for model in all_models():
        if model.experts:
            assert model.active_parameters is not None
            assert 0 < model.active_parameters < model.parameters
        else:
            assert model.active_parameters is None


@pytest.mark.parametrize(
    ("uri", "key"),
    [
        ("hf://meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b"),
        ("hf://meta-llama/Meta-Llama-3.1-8B", "llama-3.1-8b"),
        ("hf://meta-llama/Llama-3.1-8B-Instruct@main", "llama-3.1-8b"),
        ("hf://some-org/Llama-3.1-70B@0123abcd", "llama-3.1-70b"),
        ("meta-llama/Llama-3.3-70B-Instruct", "llama-3.3-70b"),
        ("oci://registry.example.com/x/llama-3.1-8b:tag", "llama-3.1-8b"),
        ("oci://registry:5000/models/llama-3.1-8b:v1", "llama-3.1-8b"),
        ("oci://ghcr.io/acme/qwen2.5-14b@sha256:0123", "qwen2.5-14b"),
        ("s3://bucket/models/Qwen2.5-7B-Instruct-AWQ", "qwen2.5-7b"),
        ("s3://bucket/models/Qwen2.5-7B-Instruct-AWQ/", "qwen2.5-7b"),
        ("gs://bucket/TheBloke/Mixtral-8x7B-Instruct-v0.1-GPTQ", "mixtral-8x7b"),
        ("pvc://models/gemma-2-9b-it", "gemma-2-9b"),
        ("hf://bartowski/Llama-3.2-3B-Instruct-GGUF", "llama-3.2-3b"),
        ("hf://bartowski/Llama-3.2-3B-Instruct-GGUF/Llama-3.2-3B-Instruct-Q4_K_M.gguf", "llama-3.2-3b"),
        ("s3://b/m/Meta-Llama-3.1-8B-Instruct.Q4_K_M.gguf", "llama-3.1-8b"),
        ("hf://hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4", "llama-3.1-70b"),
        ("hf://neuralmagic/Meta-Llama-3.1-8B-Instruct-FP8", "llama-3.1-8b"),
        ("hf://Qwen/Qwen2.5-72B-Instruct-GPTQ-Int4", "qwen2.5-72b"),
        ("hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf", "qwen2.5-0.5b"),
        ("hf://Qwen/Qwen3-30B-A3B-Instruct-2507-FP8", "qwen3-30b-a3b"),
        ("hf://TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF", "tinyllama-1.1b"),
        ("hf://unsloth/DeepSeek-R1-Distill-Llama-8B-GGUF", "deepseek-r1-distill-llama-8b"),
        ("hf://microsoft/Phi-3-mini-4k-instruct-gguf", "phi-3-mini-4k"),
        ("hf://acme/my-llama-3.1-8b-finetune", "llama-3.1-8b"),
        ("hf://openai/gpt-oss-20b", "gpt-oss-20b"),
    ],
)
def test_lookup_model_by_uri(uri: str, key: str) -> None:
    model = lookup_model(uri)
    assert model is not None, uri
    assert model.key == key


@pytest.mark.parametrize(
    "uri",
    [
        "hf://someone/unknown-model",
        "s3://bucket/models/custom-net",
        "hf://Qwen/Qwen2.5-7",  # not a size the catalog has: never a near miss
        "",
    ],
)
def test_lookup_model_misses(uri: str) -> None:
    assert lookup_model(uri) is None


def test_every_alias_finds_its_model_in_any_case() -> None:
    for model in all_models():
        for alias in model.aliases:
            assert lookup_model(f"hf://{alias}") == model
            assert lookup_model(f"hf://{alias.upper()}@main") == model


def test_longer_names_win_over_shorter_ones() -> None:
    seventy_two = lookup_model("s3://b/models/Qwen2.5-72B-Instruct")
    assert seventy_two is not None and seventy_two.key == "qwen2.5-72b"


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("8B", 8_000_000_000),
        ("70.6B", 70_600_000_000),
        ("500M", 500_000_000),
        ("1.5T", 1_500_000_000_000),
        ("7b", 7_000_000_000),
        ("0.5B", 500_000_000),
        ("350K", 350_000),
        ("123456", 123_456),
        (" 8 B ", 8_000_000_000),
    ],
)
def test_parse_parameter_count(text: str, count: int) -> None:
    assert parse_parameter_count(text) == count


@pytest.mark.parametrize("text", ["8GB", "", "B", "abc", "-1B", "1.2.3B", "8 billion", "0B", "0"])
def test_parse_parameter_count_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid parameter count"):
        parse_parameter_count(text)


@pytest.mark.parametrize(
    ("key", "hidden"),
    [("tinyllama-1.1b", 2048), ("llama-3.2-3b", 3072), ("llama-3.1-8b", 4096), ("llama-3.1-70b", 8192)],
)
def test_heuristic_shape_follows_llama_scaling(key: str, hidden: int) -> None:
    real = model_by_key(key)
    assert real is not None
    guess = shape_from_parameters(real.parameters)
    assert guess.hidden_size == hidden
    assert (guess.head_dim, guess.kv_heads) == (128, 8)
    # KV per token is what sizing takes from the shape: within -20% of the real model (Llama 3.2 3B has
    # a narrow MLP, so more layers than the guess) and at most ~3x above it (TinyLlama's 4 KV heads
    # of 64 against the assumed 8 of 128).
    real_kv = real.layers * real.kv_heads * real.head_dim
    guess_kv = guess.layers * guess.kv_heads * guess.head_dim
    assert 0.8 * real_kv <= guess_kv <= 3.2 * real_kv


@pytest.mark.parametrize("parameters", [1_000_000, 500_000_000, 8_000_000_000, 70_000_000_000, 10**12])
def test_heuristic_shape_always_shards_one_to_eight_ways(parameters: int) -> None:
    shape = shape_from_parameters(parameters)
    assert shape.parameters == parameters and shape.layers >= 1
    assert shape.attention_heads % 8 == 0 and shape.kv_heads == 8
    assert shape.hidden_size == shape.attention_heads * shape.head_dim


def test_heuristic_layers_grow_with_size() -> None:
    sizes = [10**9 * n for n in (1, 2, 4, 8, 16, 32, 64, 128, 256)]
    layers = [shape_from_parameters(n).layers * shape_from_parameters(n).hidden_size for n in sizes]
    assert layers == sorted(layers)


def test_heuristic_rejects_non_positive_counts() -> None:
    with pytest.raises(ValueError):
        shape_from_parameters(0)
