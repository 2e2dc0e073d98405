"""The ModelDeployment kind (genaiops.dev/v1alpha1): what a user writes to serve one model."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, WithJsonSchema, model_validator

from genai_operator.api.base import IMAGE_PATTERN, LIST_MAX, NAME_MAX, NAME_PATTERN, URI_MAX, ApiModel
from genai_operator.api.cel import rule, validations
from genai_operator.api.enums import (
    Engine,
    GgufType,
    KvCacheDtype,
    PlacementStrategy,
    Precision,
    QuantMethod,
    Task,
    Tier,
)
from genai_operator.api.metadata import ObjectMeta
from genai_operator.api.model_loading import SPEC_RULES as LOAD_FORMAT_RULES
from genai_operator.api.model_loading import check_load_format
from genai_operator.api.model_source import ADAPTERS_MAX, LORA_RANKS, LoraAdapter, ModelSource
from genai_operator.api.modeldeployment_status import ModelDeploymentStatus
from genai_operator.api.network import NetworkPolicySpec
from genai_operator.api.routing import Routing
from genai_operator.api.scaling import QUANTITY_PATTERN, STANDBY_SPEC_RULES, Scaling, standby_engine_problem
from genai_operator.api.task import TASK_RULES, check_task

# Which precisions each quantization method can produce (Auto is always allowed).
METHOD_PRECISIONS: dict[QuantMethod, tuple[Precision, ...]] = {
    QuantMethod.AWQ: (Precision.INT4,),
    QuantMethod.GPTQ: (Precision.INT4, Precision.INT8),
    QuantMethod.BITS_AND_BYTES: (Precision.INT4, Precision.INT8),
    QuantMethod.FP8: (Precision.FP8,),
}


class Quantization(ApiModel):
    """The numeric format of the weights (and of the KV cache)."""

    model_config = {
        **ApiModel.model_config,
        "json_schema_extra": validations(
            rule(
                "!has(self.ggufType) || self.method == 'GGUF'",
                "quantization.ggufType is only valid with method GGUF: set method: GGUF or remove ggufType",
                field_path=".ggufType",
            ),
            rule(
                "self.method != 'AWQ' || self.precision in ['Auto', 'INT4']",
                "AWQ checkpoints are 4-bit: set precision to INT4 or Auto",
                field_path=".precision",
            ),
            rule(
                "!(self.method in ['GPTQ', 'BitsAndBytes']) || self.precision in ['Auto', 'INT4', 'INT8']",
                "GPTQ and BitsAndBytes produce INT4 or INT8: set precision to INT4, INT8 or Auto",
                field_path=".precision",
            ),
            rule(
                "self.method != 'FP8' || self.precision in ['Auto', 'FP8']",
                "method FP8 needs precision FP8 or Auto",
                field_path=".precision",
            ),
        ),
    }

    precision: Precision = Field(
        default=Precision.AUTO,
        description="Weight precision. Auto picks the highest precision that fits the allowed GPUs "
        "(BF16, then FP8, INT8, INT4).",
    )
    method: QuantMethod = Field(
        default=QuantMethod.NONE,
        description="How the checkpoint was quantized: None (or unspecified), AWQ, GPTQ, BitsAndBytes, FP8, "
        "GGUF (llama.cpp only).",
    )
    gguf_type: GgufType | None = Field(
        default=None, description="The GGUF quantization type to serve (the file to pick), with method GGUF."
    )
    kv_cache: KvCacheDtype = Field(
        default=KvCacheDtype.AUTO,
        description="KV-cache element type: Auto (the model dtype), FP16 or FP8 (half the memory).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Quantization:
        if self.gguf_type is not None and self.method != QuantMethod.GGUF:
            raise ValueError(
                "quantization.ggufType is only valid with method GGUF: set method: GGUF or remove ggufType"
            )
        allowed = METHOD_PRECISIONS.get(self.method)
        if allowed and self.precision != Precision.AUTO and self.precision not in allowed:
            names = ", ".join(p.value for p in allowed)
            raise ValueError(
                f"quantization.precision {self.precision.value} does not match method "
                f"{self.method.value}, which produces {names}: set precision to {names} or Auto"
            )
        return self


GpuCount = Annotated[
    int | Literal["Auto"],
    WithJsonSchema(
        {
            "x-kubernetes-int-or-string": True,
            "description": "GPUs per replica: Auto (the smallest count that fits, also the tensor-parallel "
            "size) or an integer from 1 to 64.",
            "default": "Auto",
            "x-kubernetes-validations": [
                rule(
                    "type(self) == string ? self == 'Auto' : (self >= 1 && self <= 64)",
                    "gpu.count must be Auto or an integer from 1 to 64",
                )
            ],
        }
    ),
]


class GpuResources(ApiModel):
    """Which GPUs a replica may use and how many."""

    types: list[Annotated[str, Field(max_length=NAME_MAX, pattern=r"^[a-z0-9][-a-z0-9]*$")]] = Field(
        default_factory=list,
        max_length=LIST_MAX,
        description="Allowed GPU types by catalog key, in order of preference (nvidia-l4, nvidia-a100-80gb, "
        "nvidia-h100-80gb, ...). Empty: any GPU the chosen pools have.",
    )
    count: GpuCount = "Auto"

    @model_validator(mode="after")
    def _count(self) -> GpuResources:
        if isinstance(self.count, int) and not 1 <= self.count <= 64:
            raise ValueError("resources.gpu.count must be Auto or an integer from 1 to 64")
        return self


class Resources(ApiModel):
    """Compute resources of one replica beyond what sizing derives."""

    gpu: GpuResources = Field(default_factory=GpuResources, description="GPU type and count per replica.")
    cpu: str | None = Field(
        default=None,
        max_length=32,
        pattern=QUANTITY_PATTERN,
        description="CPU request per replica (a Kubernetes quantity); derived when unset.",
    )
    memory: str | None = Field(
        default=None,
        max_length=32,
        pattern=QUANTITY_PATTERN,
        description="Memory request per replica (a Kubernetes quantity); derived from the model size when unset.",
    )


class Serving(ApiModel):
    """How the engine serves requests; sizes the KV cache."""

    max_context_length: int | None = Field(
        default=None,
        ge=128,
        le=1048576,
        description="Maximum tokens per sequence (prompt plus output). Unset: 8192, or the model's own maximum "
        "when that is smaller (vLLM refuses a longer --max-model-len).",
    )
    max_concurrent_sequences: int | None = Field(
        default=None,
        ge=1,
        le=4096,
        description="Full maxContextLength sequences each replica must hold at once; the KV cache is sized for all "
        "of them. Unset (Auto): the fewest GPUs whose memory left after the weights holds one full sequence plus a "
        "minimum batch; the engine then gives the rest to its KV cache (status.sizing.kvCacheTokens, "
        "fullContextSequences).",
    )
    gpu_memory_utilization_percent: int = Field(
        default=90, ge=10, le=99, description="Share of each GPU's memory the engine may take (vLLM)."
    )
    port: int = Field(default=8000, ge=1024, le=65535, description="Container port of the engine's HTTP API.")
    image: str | None = Field(
        default=None,
        max_length=URI_MAX,
        pattern=IMAGE_PATTERN,
        description="Engine image override; defaults to the engine's public image. The operator may restrict "
        "it to allowed registries (GENAI_OPERATOR_ALLOWED_IMAGE_REGISTRIES).",
    )
    extra_args: list[Annotated[str, Field(max_length=256)]] = Field(
        default_factory=list, max_length=32, description="Extra command-line arguments for the engine."
    )
    max_lora_rank: Literal[8, 16, 32, 64, 128, 256, 320, 512] = Field(
        default=16,
        description="Largest LoRA rank among spec.adapters (vLLM --max-lora-rank); sizes the adapter memory "
        f"reserved on every replica. One of {', '.join(map(str, LORA_RANKS))}.",
    )


class Placement(ApiModel):
    """Where replicas go: an ordered list of pools or any pool of a tier."""

    model_config = {
        **ApiModel.model_config,
        "json_schema_extra": validations(
            rule(
                "has(self.pools) != has(self.tier)",
                "set exactly one of placement.pools (an ordered list) or placement.tier",
            ),
        ),
    }

    pools: list[Annotated[str, Field(max_length=NAME_MAX, pattern=NAME_PATTERN)]] | None = Field(
        default=None, min_length=1, max_length=LIST_MAX, description="PlacementPool names in order of preference."
    )
    tier: Tier | None = Field(default=None, description="Any pool of this tier: Edge, OnPrem or Cloud.")
    strategy: PlacementStrategy = Field(
        default=PlacementStrategy.ORDERED,
        description="Ordered fills pools in order; Spread balances replicas across pools; Cheapest fills "
        "the lowest cost per replica first.",
    )
    spillover: bool = Field(default=True, description="Overflow to the next pool when one lacks capacity.")

    @model_validator(mode="after")
    def _one_of(self) -> Placement:
        if (self.pools is None) == (self.tier is None):
            raise ValueError("set exactly one of placement.pools (an ordered list) or placement.tier")
        return self


class ModelDeploymentSpec(ApiModel):
    """The desired state: one model served with one quantization choice across one or more pools."""

    model_config = {
        **ApiModel.model_config,
        "json_schema_extra": validations(
            rule(
                "!has(self.quantization) || self.quantization.method != 'GGUF' || self.engine in ['Auto', 'LlamaCpp']",
                "quantization.method GGUF is served by llama.cpp: set engine to LlamaCpp or Auto",
                field_path=".engine",
            ),
            rule(
                "self.engine != 'LlamaCpp' || !has(self.quantization) || self.quantization.method in ['None', 'GGUF']",
                "engine LlamaCpp serves GGUF files: set quantization.method to GGUF or None",
                field_path=".quantization.method",
            ),
            rule(
                "!has(self.adapters) || size(self.adapters) == 0 || self.engine in ['Auto', 'VLLM', 'SGLang']",
                "spec.adapters are served by vLLM or SGLang: set engine to VLLM, SGLang or Auto, or remove the "
                "adapters",
                field_path=".adapters",
            ),
            *TASK_RULES,
            *LOAD_FORMAT_RULES,
            *STANDBY_SPEC_RULES,
        ),
    }

    model: ModelSource = Field(description="The model to serve.")
    task: Task = Field(
        default=Task.TEXT_GENERATION,
        description="What the model does: TextGeneration (chat and completions), TextEmbedding (an embedding "
        "model) or Reranking (a cross-encoder scoring query and document pairs). Embedding and reranking run "
        "on Text Embeddings Inference (engine TEI or Auto), on GPU and CPU pools.",
    )
    engine: Engine = Field(
        default=Engine.AUTO,
        description="Inference engine: Auto (vLLM on GPU pools, llama.cpp on CPU and edge pools, TEI for "
        "embedding and reranking tasks), VLLM, SGLang, LlamaCpp, TEI or TGI (deprecated: in maintenance "
        "upstream).",
    )
    quantization: Quantization = Field(default_factory=Quantization, description="Weight and KV-cache format.")
    serving: Serving = Field(default_factory=Serving, description="Engine serving settings.")
    resources: Resources = Field(default_factory=Resources, description="Per-replica resources.")
    replicas: int = Field(
        default=1,
        ge=0,
        le=1000,
        description="Desired replicas across all pools; owned by the autoscaler when scaling is set.",
    )
    scaling: Scaling | None = Field(default=None, description="Autoscaling; omit for a fixed replica count.")
    placement: Placement | None = Field(
        default=None, description="Pools to place replicas on; omit for the default pool."
    )
    network_policy: NetworkPolicySpec | None = Field(default=None, description="Optional ingress NetworkPolicy.")
    routing: Routing | None = Field(
        default=None,
        description="Inference-aware routing (InferencePool, endpoint picker, HTTPRoute or standalone proxy); "
        "omit for the plain Service.",
    )
    adapters: list[LoraAdapter] = Field(
        default_factory=list,
        max_length=ADAPTERS_MAX,
        description="LoRA adapters served on the same replicas as the model (vLLM), each under its own model "
        "name; adding or removing one rolls the pods out.",
    )

    @model_validator(mode="after")
    def _engine_matches_method(self) -> ModelDeploymentSpec:
        if self.adapters and self.engine not in (Engine.AUTO, Engine.VLLM, Engine.SGLANG):
            raise ValueError(
                "spec.adapters are served by vLLM or SGLang: set engine to VLLM, SGLang or Auto, or remove the adapters"
            )
        quant = self.quantization
        broken = check_task(self.task, self.engine, quant.precision, quant.method, len(self.adapters))
        broken = broken or check_load_format(self.model.load_format, self.engine)
        broken = broken or standby_engine_problem(self.engine, self.scaling)
        if broken:
            raise ValueError(broken)
        names = [a.name for a in self.adapters]
        if len(set(names)) != len(names):
            raise ValueError("spec.adapters: adapter names must be unique")
        method = self.quantization.method
        if method == QuantMethod.GGUF and self.engine not in (Engine.AUTO, Engine.LLAMA_CPP):
            raise ValueError("quantization.method GGUF is served by llama.cpp: set engine to LlamaCpp or Auto")
        if self.engine == Engine.LLAMA_CPP and method not in (QuantMethod.NONE, QuantMethod.GGUF):
            raise ValueError("engine LlamaCpp serves GGUF files: set quantization.method to GGUF or None")
        return self


class ModelDeployment(ApiModel):
    """A whole ModelDeployment manifest."""

    model_config = {**ApiModel.model_config, "extra": "ignore"}

    api_version: Literal["genaiops.dev/v1alpha1"] = Field(description="genaiops.dev/v1alpha1")
    kind: Literal["ModelDeployment"] = Field(description="ModelDeployment")
    metadata: ObjectMeta
    spec: ModelDeploymentSpec
    status: ModelDeploymentStatus | None = None

    def key(self) -> str:
        return f"{self.metadata.namespace or 'default'}/{self.metadata.name}"
