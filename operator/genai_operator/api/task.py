"""spec.task: what the model does, and which engines and settings each task allows.

Text generation runs on vLLM, SGLang, llama.cpp or TGI. Embedding and reranking models (BERT-class
encoders, bi-encoders and cross-encoders) run on Hugging Face Text Embeddings Inference (engine TEI), on GPU
and CPU pools alike: one server with one API (/embed, /rerank, OpenAI /v1/embeddings) wherever the replica
lands, which the edge needs. Not served elsewhere, by choice: llama.cpp's `--embedding` needs GGUF
conversions that few encoder repositories publish and has no cross-encoder scoring in our pinned build;
vLLM's pooling runner has no CPU image we pin. TEI serves the weights in 16 or 32 bit only, with no LoRA.

The same rules run in Python (`check_task`) so the CLI and the operator reject what `kubectl apply`
rejects, with the same message.
"""

from __future__ import annotations

from typing import Any

from genai_operator.api.cel import rule
from genai_operator.api.enums import Engine, Precision, QuantMethod, Task

ENCODER_TASKS = (Task.TEXT_EMBEDDING, Task.RERANKING)
ENCODER_ENGINES = (Engine.AUTO, Engine.TEI)
ENCODER_PRECISIONS = (Precision.AUTO, Precision.FP32, Precision.FP16, Precision.BF16)

MSG_ENGINE = (
    "spec.task TextEmbedding and Reranking are served by Text Embeddings Inference on GPU and CPU pools: set "
    "engine to TEI or Auto"
)
MSG_TEI = (
    "engine TEI serves embedding and reranking models: set task to TextEmbedding or Reranking, or engine to "
    "Auto, VLLM, SGLang, LlamaCpp or TGI"
)
MSG_QUANT = (
    "embedding and reranking models are served in 16 or 32 bit: set quantization.precision to Auto, BF16, "
    "FP16 or FP32 and remove quantization.method"
)
MSG_ADAPTERS = "spec.adapters are LoRA adapters for text generation: remove them or set task TextGeneration"

TASK_RULES: tuple[dict[str, Any], ...] = (
    rule("self.task == 'TextGeneration' || self.engine in ['Auto', 'TEI']", MSG_ENGINE, field_path=".engine"),
    rule("self.engine != 'TEI' || self.task != 'TextGeneration'", MSG_TEI, field_path=".task"),
    rule(
        "self.task == 'TextGeneration' || !has(self.quantization) || (self.quantization.method == 'None' && "
        "self.quantization.precision in ['Auto', 'FP32', 'FP16', 'BF16'])",
        MSG_QUANT,
        field_path=".quantization",
    ),
    rule(
        "self.task == 'TextGeneration' || !has(self.adapters) || size(self.adapters) == 0",
        MSG_ADAPTERS,
        field_path=".adapters",
    ),
)


def check_task(task: Task, engine: Engine, precision: Precision, method: QuantMethod, adapters: int) -> str | None:
    """The message of the first TASK_RULES rule the spec breaks, or None."""
    encoder = task in ENCODER_TASKS
    if encoder and engine not in ENCODER_ENGINES:
        return MSG_ENGINE
    if engine == Engine.TEI and not encoder:
        return MSG_TEI
    if encoder and (method != QuantMethod.NONE or precision not in ENCODER_PRECISIONS):
        return MSG_QUANT
    if encoder and adapters:
        return MSG_ADAPTERS
    return None
