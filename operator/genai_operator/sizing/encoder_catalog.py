"""Embedding and reranking models (BERT-class encoders) the operator knows by name.

Shapes are copied from each model's `config.json` (num_hidden_layers, num_attention_heads, hidden_size,
intermediate_size, vocab_size, max_position_embeddings less the two positions RoBERTa reserves for padding).
Parameter counts are what `bert_parameters` derives from the shape, which matches the model pages
exactly: bge-small-en-v1.5 33,360,000 ("33.4M"), bge-base-en-v1.5 109,482,240 ("109M"), bge-reranker-base
278,044,417 ("278M"); tests/unit/sizing/test_sizing_encoders.py checks the derivation against them.
Encoders attend in both directions and keep no KV cache, so `kv_heads` is the head count and unused.
"""

from __future__ import annotations

from functools import lru_cache

from genai_operator.sizing.model_names import find_model
from genai_operator.sizing.types import ModelShape


def bert_parameters(
    layers: int,
    hidden: int,
    intermediate: int,
    vocab: int,
    positions: int,
    *,
    token_types: int,
    head: str,
) -> int:
    """Weights and biases of a BERT / XLM-RoBERTa checkpoint. `head`: "pooler" (a BertModel with its pooler,
    as bi-encoders ship), or "classifier" (RobertaForSequenceClassification with one label, no pooler)."""
    embeddings = (vocab + positions + token_types) * hidden + 2 * hidden  # + LayerNorm
    attention = 4 * (hidden * hidden + hidden) + 2 * hidden  # q, k, v, output; LayerNorm
    mlp = hidden * intermediate + intermediate + intermediate * hidden + hidden + 2 * hidden
    heads = {"pooler": hidden * hidden + hidden, "classifier": hidden * hidden + hidden + hidden + 1}[head]
    return embeddings + layers * (attention + mlp) + heads


def _encoder(
    key: str,
    aliases: tuple[str, ...],
    shape: tuple[int, int, int, int, int, int],
    *,
    token_types: int,
    head: str,
) -> ModelShape:
    """`shape` is (layers, attention heads, hidden_size, intermediate_size, vocab_size, max positions)."""
    layers, heads, hidden, intermediate, vocab, positions = shape
    # RoBERTa stores two more position embeddings than it can use (padding offset).
    stored = positions + 2 if token_types == 1 else positions
    return ModelShape(
        key=key,
        aliases=aliases,
        parameters=bert_parameters(layers, hidden, intermediate, vocab, stored, token_types=token_types, head=head),
        layers=layers,
        attention_heads=heads,
        kv_heads=heads,
        head_dim=hidden // heads,
        hidden_size=hidden,
        vocab_size=vocab,
        tied_embeddings=True,
        max_context=positions,
    )


_ENCODERS: tuple[ModelShape, ...] = (
    # --- BAAI bge v1.5 bi-encoders (BERT, CLS pooling, 512 tokens) ---
    _encoder("bge-small-en-v1.5", ("baai/bge-small-en-v1.5",), (12, 12, 384, 1536, 30522, 512),
             token_types=2, head="pooler"),
    _encoder("bge-base-en-v1.5", ("baai/bge-base-en-v1.5",), (12, 12, 768, 3072, 30522, 512),
             token_types=2, head="pooler"),
    _encoder("bge-large-en-v1.5", ("baai/bge-large-en-v1.5",), (24, 16, 1024, 4096, 30522, 512),
             token_types=2, head="pooler"),
    # --- BAAI cross-encoders (XLM-RoBERTa, one relevance logit) ---
    _encoder("bge-reranker-base", ("baai/bge-reranker-base",), (12, 12, 768, 3072, 250002, 512),
             token_types=1, head="classifier"),
    _encoder("bge-reranker-large", ("baai/bge-reranker-large",), (24, 16, 1024, 4096, 250002, 512),
             token_types=1, head="classifier"),
)  # fmt: skip


def all_encoders() -> tuple[ModelShape, ...]:
    return _ENCODERS


@lru_cache(maxsize=1024)
def lookup_encoder(uri: str) -> ModelShape | None:
    """The catalog encoder a model URI points at, or None (same matching as the decoder catalog)."""
    return find_model(uri, _ENCODERS)
