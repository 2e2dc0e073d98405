"""Value types shared by the sizing modules: GPU and model descriptions, estimates, decisions.

All sizes are in bytes (ints). File listings use decimal GB, drivers MiB and PyTorch GiB; converting
only at the edges keeps the arithmetic honest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from genai_operator.api.enums import Engine, GgufType, KvCacheDtype, Precision, QuantMethod


@dataclass(frozen=True)
class GpuType:
    """One accelerator model as the scheduler sees it."""

    key: str  # stable id used in spec.resources.gpu.types, e.g. "nvidia-l4"
    name: str  # short display name, e.g. "L4"
    vendor: str  # "nvidia" | "amd"
    resource_name: str  # extended resource, e.g. "nvidia.com/gpu"
    marketed_bytes: int  # the figure on the datasheet
    usable_bytes: int  # what the driver reports as total (below the marketed figure)
    products: tuple[str, ...]  # GPU Feature Discovery `nvidia.com/gpu.product` values (AMD: device names)
    supports_bf16: bool = True
    supports_fp8: bool = False  # native FP8 tensor cores (Ada, Hopper, MI300)
    arch: str = "amd64"  # node architecture the device ships in
    unified_memory: bool = False  # Jetson-class: memory shared with the CPU


@dataclass(frozen=True)
class ModelShape:
    """What the estimator needs to know about a model: size and attention shape."""

    key: str  # catalog id, e.g. "llama-3.1-8b"
    # lower-case repository ids that name it, e.g. "meta-llama/llama-3.1-8b-instruct"
    aliases: tuple[str, ...]
    parameters: int
    layers: int
    attention_heads: int
    kv_heads: int
    head_dim: int
    hidden_size: int
    vocab_size: int
    tied_embeddings: bool = False
    experts: int = 0  # 0 for dense models
    active_parameters: int | None = None  # per token, for Mixture-of-Experts models
    max_context: int = 8192


@dataclass(frozen=True)
class SizingRequest:
    """Everything the estimator reads from a ModelDeployment spec (plain values, no API objects)."""

    parameters: int
    shape: ModelShape | None  # None: unknown model, attention shape derived from the parameter count
    precision: Precision  # may be AUTO
    method: QuantMethod
    gguf_type: GgufType | None
    kv_cache: KvCacheDtype
    max_context: int
    max_sequences: int | None  # None: Auto (sizing/concurrency.py), else a promise sized in full
    gpu_memory_utilization_percent: int
    engine: Engine  # resolved engine (not AUTO)
    gpu_count: int | None = None  # None: Auto
    lora_adapters: int = 0  # LoRA adapters served with the model (vLLM reserves GPU memory for them)
    lora_rank: int = 0


@dataclass(frozen=True)
class MemoryEstimate:
    """Per-replica memory for one precision."""

    precision: Precision
    method: QuantMethod
    bits_per_weight: float  # effective, over all weights
    weights_bytes: int
    kv_cache_bytes: int
    kv_bytes_per_token: int
    overhead_bytes: int  # activations, CUDA graphs, runtime context, per replica
    total_bytes: int
    # The llama.cpp file type the estimate assumes (engine LlamaCpp or method GGUF): `precision: Auto`
    # picks one, and the engine has to fetch that file, so the choice must travel with the estimate.
    gguf_type: GgufType | None = None
    lora_bytes: int = 0  # adapter slots vLLM reserves (part of total_bytes)
    kv_held_bytes_per_token: int = 0  # across the replica's GPUs (KV heads replicated beyond their count)


@dataclass(frozen=True)
class SizingDecision:
    """The answer for one pool / set of GPU types: what a replica needs and on what."""

    fits: bool
    estimate: MemoryEstimate  # for the chosen (or, when nothing fits, the smallest tried) precision
    gpu: GpuType | None  # None: CPU only (llama.cpp on a node without accelerators)
    gpus_per_replica: int
    tensor_parallel: int
    reasons: tuple[str, ...] = field(default_factory=tuple)
    # What the chosen hardware gives (sizing/concurrency.py): KV-cache capacity in tokens, the full
    # maxContextLength sequences it holds, and the engine's batch cap (--max-num-seqs, --parallel).
    kv_tokens: int = 0
    max_context: int = 0  # the maxContextLength sized for (the spec's, or its default for the model)
    full_sequences: int = 0
    batch_sequences: int = 0
    # Nodes one replica spans (sizing/multinode.py): above 1, a group of pods, one per node, each with
    # `gpus_per_replica` GPUs and `tensor_parallel` ranks, the nodes being pipeline-parallel stages.
    nodes: int = 1

    @property
    def total_gpus(self) -> int:
        """GPUs of one whole replica, across its nodes."""
        return self.gpus_per_replica * self.nodes
