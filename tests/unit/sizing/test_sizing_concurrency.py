"""Concurrency Auto (issue 16): GPU counts with default serving settings on well-known models, an explicit
maxConcurrentSequences still sized in full, the capacity reported in plan and status, and the engines' limits."""

from __future__ import annotations

from typing import Any

import pytest

from genai_operator.api.enums import Engine
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.engines.base import EngineContext
from genai_operator.engines.llamacpp import llamacpp_args
from genai_operator.engines.tgi import tgi_args
from genai_operator.engines.vllm import vllm_args
from genai_operator.planning.fleet_report import report_entry
from genai_operator.planning.plan import plan_model_deployment
from genai_operator.sizing.concurrency import (
    LLAMA_CPP_AUTO_SLOTS,
    MIN_BATCH_KV_PERCENT,
    VLLM_AUTO_MAX_NUM_SEQS,
    required_kv_bytes,
)


def md(uri: str, gpu: str, precision: str = "Auto", method: str = "None", **spec: Any) -> ModelDeployment:
    body = {
        "model": {"uri": uri},
        "quantization": {"precision": precision, "method": method},
        "resources": {"gpu": {"types": [gpu]}},
        **spec,
    }
    return ModelDeployment.model_validate(
        {
            "apiVersion": "genaiops.dev/v1alpha1",
            "kind": "ModelDeployment",
            "metadata": {"name": "m", "namespace": "ml"},
            "spec": body,
        }
    )


# (model, precision, method, GPU type, GPUs per replica) with serving left unset: the "done when".
DEFAULTS = [
    ("hf://meta-llama/Llama-3.1-8B-Instruct", "BF16", "None", "nvidia-l4", 1),
    ("hf://meta-llama/Llama-3.1-8B-Instruct", "BF16", "None", "nvidia-a10g", 1),
    ("hf://hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4", "INT4", "AWQ", "nvidia-l4", 1),
    ("hf://hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4", "INT4", "AWQ", "nvidia-t4", 1),
    ("hf://meta-llama/Llama-2-13b-chat-hf", "FP16", "None", "nvidia-l40s", 1),
    ("hf://Qwen/Qwen2.5-72B-Instruct-AWQ", "INT4", "AWQ", "nvidia-a100-80gb", 1),
    ("hf://meta-llama/Llama-3.1-70B-Instruct", "BF16", "None", "nvidia-a100-80gb", 4),
    ("hf://meta-llama/Llama-3.1-70B-Instruct", "BF16", "None", "nvidia-h100-80gb", 4),
    ("hf://meta-llama/Llama-3.1-405B-Instruct-FP8", "FP8", "FP8", "nvidia-h100-80gb", 8),
]


@pytest.mark.parametrize(("uri", "precision", "method", "gpu", "count"), DEFAULTS)
def test_default_serving_picks_the_published_gpu_count(
    uri: str, precision: str, method: str, gpu: str, count: int
) -> None:
    decision = plan_model_deployment(md(uri, gpu, precision, method))
    assert decision.fits, decision.reasons
    sizing = decision.assignments[0].sizing
    assert (sizing.gpu.key if sizing.gpu else None, sizing.gpus_per_replica) == (gpu, count)
    # The chosen GPUs hold at least one full sequence, and the engine gets the rest of the memory.
    assert sizing.full_sequences >= 1 and sizing.kv_tokens >= sizing.full_sequences * sizing.max_context


def test_an_explicit_promise_is_sized_in_full() -> None:
    serving = {"maxContextLength": 8192, "maxConcurrentSequences": 16}
    promised = plan_model_deployment(md("hf://meta-llama/Llama-3.1-8B-Instruct", "nvidia-l4", "BF16", serving=serving))
    sizing = promised.assignments[0].sizing
    assert sizing.gpus_per_replica == 2
    assert sizing.estimate.kv_cache_bytes == 16 * 8192 * 131072  # 16 GiB, as before issue 16
    assert sizing.full_sequences >= 16 and sizing.batch_sequences == 16


def test_auto_precision_takes_the_highest_that_fits_one_gpu_class() -> None:
    decision = plan_model_deployment(md("hf://meta-llama/Llama-3.1-8B-Instruct", "nvidia-l4"))
    sizing = decision.assignments[0].sizing
    assert (sizing.estimate.precision.value, sizing.gpus_per_replica) == ("BF16", 1)


def test_context_defaults_to_the_model_maximum_when_smaller() -> None:
    decision = plan_model_deployment(md("hf://meta-llama/Llama-2-13b-chat-hf", "nvidia-l40s", "FP16"))
    assert decision.assignments[0].sizing.max_context == 4096  # Llama 2's own limit, not 8192


def test_minimum_batch_is_the_larger_of_a_prefill_chunk_and_a_share_of_the_weights() -> None:
    per_token, weights = 131072, 16 * 10**9
    kv = required_kv_bytes(Engine.VLLM, None, 8192, per_token, weights, 2048)
    assert kv == per_token * 8192 + weights * MIN_BATCH_KV_PERCENT // 100
    small = required_kv_bytes(Engine.VLLM, None, 8192, per_token, 10**6, 2048)
    assert small == per_token * (8192 + 2048)
    assert required_kv_bytes(Engine.LLAMA_CPP, None, 8192, per_token, weights, 512) == per_token * 8192
    assert required_kv_bytes(Engine.VLLM, 3, 8192, per_token, weights, 2048) == 3 * per_token * 8192


def test_plan_entry_reports_capacity() -> None:
    model = md("hf://meta-llama/Llama-3.1-8B-Instruct", "nvidia-l4", "BF16")
    entry = report_entry(model, plan_model_deployment(model))
    assert entry["kvCacheTokens"] > 3 * 8192 and entry["fullContextSequences"] == entry["kvCacheTokens"] // 8192


def _context(model: ModelDeployment) -> EngineContext:
    decision = plan_model_deployment(model)
    return EngineContext(name="m", spec=model.spec, assignment=decision.assignments[0])


def _files() -> Any:
    class Files:
        model_path = "/cache/model"
        adapters: tuple[tuple[str, str], ...] = ()

    return Files()


def test_engine_limits_follow_the_sizing() -> None:
    vllm = _context(md("hf://meta-llama/Llama-3.1-8B-Instruct", "nvidia-l4", "BF16"))
    args = vllm_args(vllm, _files())
    assert args[args.index("--max-num-seqs") + 1] == str(VLLM_AUTO_MAX_NUM_SEQS)
    assert args[args.index("--max-model-len") + 1] == "8192"
    tgi = _context(md("hf://mistralai/Mistral-7B-Instruct-v0.3", "nvidia-l4", "BF16", engine="TGI"))
    args = tgi_args(tgi, _files())
    assert args[args.index("--max-total-tokens") + 1] == "8192"
    assert args[args.index("--max-batch-prefill-tokens") + 1] == "8192"
    llama = _context(md("hf://Qwen/Qwen2.5-1.5B-Instruct-GGUF", "nvidia-l4", "INT4", "GGUF", engine="LlamaCpp"))
    args = llamacpp_args(llama, _files())
    slots = int(args[args.index("--parallel") + 1])
    assert slots == LLAMA_CPP_AUTO_SLOTS  # a 1.5B model: the L4 holds every slot llama-server runs by default
    assert args[args.index("--ctx-size") + 1] == str(slots * 8192)
    assert llama.sizing.full_sequences == slots


def test_status_names_the_service_port_and_the_capacity() -> None:
    from genai_operator.api.modeldeployment_status import SizingStatus
    from genai_operator.settings import Settings
    from genai_operator.status.model_deployment import build_status

    model = md("hf://meta-llama/Llama-3.1-8B-Instruct", "nvidia-l4", "BF16", serving={"port": 9000})
    status = build_status(
        model, plan_model_deployment(model), {}, generation=1, now="2026-01-01T00:00:00Z", settings=Settings()
    )
    assert status["endpoint"] == "http://m.ml.svc:8000/v1"  # the Service's port, not the pod's 9000
    sizing = SizingStatus.model_validate(status["sizing"])
    assert sizing.kv_cache_tokens and sizing.full_context_sequences == sizing.kv_cache_tokens // 8192
