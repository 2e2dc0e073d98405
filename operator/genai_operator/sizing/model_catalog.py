"""Open models the operator knows by name, with the shapes from their Hugging Face `config.json`.

Every figure below is copied from the model's `config.json` (num_hidden_layers, num_attention_heads,
num_key_value_heads, head_dim or hidden_size / heads, hidden_size, vocab_size, tie_word_embeddings,
num_local_experts / num_experts, max_position_embeddings). Parameter counts are the exact totals of
the safetensors checkpoints (the "Model size" on the model page); they can be re-derived from the
shape and intermediate_size (tests/unit/sizing/test_sizing_model_catalog.py does, exactly).
Active parameters of MoE models are the total minus the experts a token does not use.
"""

from __future__ import annotations

from functools import lru_cache

from genai_operator.sizing.model_names import find_model
from genai_operator.sizing.model_shapes import parse_parameter_count, shape_from_parameters
from genai_operator.sizing.types import ModelShape

__all__ = ["all_models", "lookup_model", "model_by_key", "parse_parameter_count", "shape_from_parameters"]


def _model(
    key: str,
    aliases: tuple[str, ...],
    parameters: int,
    shape: tuple[int, int, int, int, int, int],
    max_context: int,
    *,
    tied: bool = False,
    experts: int = 0,
    active: int | None = None,
) -> ModelShape:
    """`shape` is (layers, attention heads, kv heads, head_dim, hidden_size, vocab_size)."""
    layers, heads, kv_heads, head_dim, hidden, vocab = shape
    return ModelShape(
        key=key,
        aliases=aliases,
        parameters=parameters,
        layers=layers,
        attention_heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        hidden_size=hidden,
        vocab_size=vocab,
        tied_embeddings=tied,
        experts=experts,
        active_parameters=active,
        max_context=max_context,
    )


def _meta(size: str) -> tuple[str, ...]:
    """Meta publishes each Llama 3.1 size under two repo names (with and without `Meta-`)."""
    return tuple(
        f"meta-llama/{prefix}llama-3.1-{size}{suffix}" for prefix in ("", "meta-") for suffix in ("", "-instruct")
    )


def _qwen25(size: str) -> tuple[str, ...]:
    return (f"qwen/qwen2.5-{size}", f"qwen/qwen2.5-{size}-instruct")


_MODELS: tuple[ModelShape, ...] = (
    # --- Meta Llama 3.x (GQA with 8 KV heads at every size; vocab 128256; RoPE-scaled to 128K) ---
    _model("llama-3.2-1b", ("meta-llama/llama-3.2-1b", "meta-llama/llama-3.2-1b-instruct"),
           1_235_814_400, (16, 32, 8, 64, 2048, 128256), 131072, tied=True),
    _model("llama-3.2-3b", ("meta-llama/llama-3.2-3b", "meta-llama/llama-3.2-3b-instruct"),
           3_212_749_824, (28, 24, 8, 128, 3072, 128256), 131072, tied=True),
    _model("llama-3.1-8b", _meta("8b"), 8_030_261_248, (32, 32, 8, 128, 4096, 128256), 131072),
    _model("llama-3.1-70b", _meta("70b"), 70_553_706_496, (80, 64, 8, 128, 8192, 128256), 131072),
    _model("llama-3.3-70b", ("meta-llama/llama-3.3-70b-instruct",),
           70_553_706_496, (80, 64, 8, 128, 8192, 128256), 131072),
    _model("llama-3.1-405b", _meta("405b"), 405_853_388_800, (126, 128, 8, 128, 16384, 128256), 131072),
    # --- Meta Llama 3 (8K context) and Llama 2 (4K; 7B and 13B without GQA, vocab 32000) ---
    _model("llama-3-8b", ("meta-llama/meta-llama-3-8b", "meta-llama/meta-llama-3-8b-instruct"),
           8_030_261_248, (32, 32, 8, 128, 4096, 128256), 8192),
    _model("llama-3-70b", ("meta-llama/meta-llama-3-70b", "meta-llama/meta-llama-3-70b-instruct"),
           70_553_706_496, (80, 64, 8, 128, 8192, 128256), 8192),
    _model("llama-2-7b", ("meta-llama/llama-2-7b-hf", "meta-llama/llama-2-7b-chat-hf"),
           6_738_415_616, (32, 32, 32, 128, 4096, 32000), 4096),
    _model("llama-2-13b", ("meta-llama/llama-2-13b-hf", "meta-llama/llama-2-13b-chat-hf"),
           13_015_864_320, (40, 40, 40, 128, 5120, 32000), 4096),
    _model("llama-2-70b", ("meta-llama/llama-2-70b-hf", "meta-llama/llama-2-70b-chat-hf"),
           68_976_648_192, (80, 64, 8, 128, 8192, 32000), 4096),
    _model("deepseek-r1-distill-llama-8b", ("deepseek-ai/deepseek-r1-distill-llama-8b",),
           8_030_261_248, (32, 32, 8, 128, 4096, 128256), 131072),
    _model("tinyllama-1.1b", ("tinyllama/tinyllama-1.1b-chat-v1.0", "tinyllama/tinyllama_v1.1"),
           1_100_048_384, (22, 32, 4, 64, 2048, 32000), 2048),
    # --- Mistral AI (v0.3 grew the vocab to 32768; Mixtral: 8 experts, 2 per token) ---
    _model("mistral-7b-v0.3", ("mistralai/mistral-7b-v0.3", "mistralai/mistral-7b-instruct-v0.3"),
           7_248_023_552, (32, 32, 8, 128, 4096, 32768), 32768),
    _model("mixtral-8x7b", ("mistralai/mixtral-8x7b-v0.1", "mistralai/mixtral-8x7b-instruct-v0.1"),
           46_702_792_704, (32, 32, 8, 128, 4096, 32000), 32768, experts=8, active=12_879_925_248),
    # The instruct release's vocab (32768); the base v0.1 has 32000, 9.4M parameters fewer.
    _model("mixtral-8x22b", ("mistralai/mixtral-8x22b-v0.1", "mistralai/mixtral-8x22b-instruct-v0.1",
                             "mistral-community/mixtral-8x22b-v0.1"),
           140_630_071_296, (56, 48, 8, 128, 6144, 32768), 65536, experts=8, active=39_161_468_928),
    # --- Qwen2.5 (small sizes tie embeddings; max_position_embeddings 32768, 128K with YaRN) ---
    _model("qwen2.5-0.5b", _qwen25("0.5b"), 494_032_768, (24, 14, 2, 64, 896, 151936), 32768, tied=True),
    _model("qwen2.5-1.5b", _qwen25("1.5b"), 1_543_714_304, (28, 12, 2, 128, 1536, 151936), 32768, tied=True),
    _model("qwen2.5-3b", _qwen25("3b"), 3_085_938_688, (36, 16, 2, 128, 2048, 151936), 32768, tied=True),
    _model("qwen2.5-7b", _qwen25("7b"), 7_615_616_512, (28, 28, 4, 128, 3584, 152064), 32768),
    _model("qwen2.5-14b", _qwen25("14b"), 14_770_033_664, (48, 40, 8, 128, 5120, 152064), 32768),
    _model("qwen2.5-32b", _qwen25("32b"), 32_763_876_352, (64, 40, 8, 128, 5120, 152064), 32768),
    _model("qwen2.5-72b", _qwen25("72b"), 72_706_203_648, (80, 64, 8, 128, 8192, 152064), 32768),
    # --- Qwen3 (explicit head_dim 128; the 30B-A3B MoE routes 8 of 128 experts per token) ---
    _model("qwen3-8b", ("qwen/qwen3-8b", "qwen/qwen3-8b-base"),
           8_190_735_360, (36, 32, 8, 128, 4096, 151936), 40960),
    _model("qwen3-30b-a3b", ("qwen/qwen3-30b-a3b", "qwen/qwen3-30b-a3b-base",
                             "qwen/qwen3-30b-a3b-instruct-2507", "qwen/qwen3-30b-a3b-thinking-2507"),
           30_532_122_624, (48, 32, 4, 128, 2048, 151936), 40960, experts=128, active=3_353_032_704),
    # --- Gemma 2 (head_dim 256 on 2B/9B; tied 256000-token embeddings; every other layer attends to a
    # 4096-token sliding window, which the KV estimate ignores: it sizes every layer for full context) ---
    _model("gemma-2-2b", ("google/gemma-2-2b", "google/gemma-2-2b-it"),
           2_614_341_888, (26, 8, 4, 256, 2304, 256000), 8192, tied=True),
    _model("gemma-2-9b", ("google/gemma-2-9b", "google/gemma-2-9b-it"),
           9_241_705_984, (42, 16, 8, 256, 3584, 256000), 8192, tied=True),
    _model("gemma-2-27b", ("google/gemma-2-27b", "google/gemma-2-27b-it"),
           27_227_128_320, (46, 32, 16, 128, 4608, 256000), 8192, tied=True),
    # --- Microsoft Phi-3 / 3.5 mini (no GQA: 32 KV heads of 96) ---
    _model("phi-3-mini-4k", ("microsoft/phi-3-mini-4k-instruct",),
           3_821_079_552, (32, 32, 32, 96, 3072, 32064), 4096),
    _model("phi-3-mini-128k", ("microsoft/phi-3-mini-128k-instruct",),
           3_821_079_552, (32, 32, 32, 96, 3072, 32064), 131072),
    _model("phi-3.5-mini", ("microsoft/phi-3.5-mini-instruct",),
           3_821_079_552, (32, 32, 32, 96, 3072, 32064), 131072),
    # --- OpenAI gpt-oss-20b: 32 experts, 4 per token; half the layers use a 128-token sliding window
    # (ignored, as for Gemma 2). Its published checkpoint stores the experts in MXFP4 (~4.25 bits), so
    # the real download (~13.8 GB) is close to the INT4 estimate, not to the BF16 one. ---
    _model("gpt-oss-20b", ("openai/gpt-oss-20b",),
           20_914_757_184, (24, 64, 8, 64, 2880, 201088), 131072, experts=32, active=4_187_440_704),
)  # fmt: skip

_BY_KEY = {model.key: model for model in _MODELS}


def all_models() -> tuple[ModelShape, ...]:
    return _MODELS


def model_by_key(key: str) -> ModelShape | None:
    return _BY_KEY.get(key.lower())


# The catalog is constant, so a URI always maps to the same shape; the search rebuilds its name index
# each time (~1 ms), which planning pays once per model and pool without this cache.
@lru_cache(maxsize=4096)
def lookup_model(uri: str) -> ModelShape | None:
    """The catalog model a model URI points at, or None.

    Accepts `hf://org/repo[@rev]`, `s3://` / `gs://` / `pvc://` paths, `oci://registry/repo:tag` and
    bare repo ids. The Hugging Face repo id is tried first; then each path element, last first,
    with quantization and chat suffixes stripped (`Qwen2.5-7B-Instruct-AWQ` -> `qwen2.5-7b`).
    """
    return find_model(uri, _MODELS)
