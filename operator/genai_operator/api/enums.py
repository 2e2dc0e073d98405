"""String enums of the v1alpha1 API (Kubernetes conventions: CamelCase string values)."""

from enum import StrEnum


class Engine(StrEnum):
    AUTO = "Auto"
    VLLM = "VLLM"
    LLAMA_CPP = "LlamaCpp"
    TGI = "TGI"  # maintenance mode upstream: kept working, marked deprecated in status and docs
    SGLANG = "SGLang"
    TEI = "TEI"  # Text Embeddings Inference: embedding and reranking models (spec.task)


class Task(StrEnum):
    """What the model does: generate text, embed text, or score (query, document) pairs."""

    TEXT_GENERATION = "TextGeneration"
    TEXT_EMBEDDING = "TextEmbedding"
    RERANKING = "Reranking"


class Precision(StrEnum):
    AUTO = "Auto"
    FP32 = "FP32"
    BF16 = "BF16"
    FP16 = "FP16"
    FP8 = "FP8"
    INT8 = "INT8"
    INT4 = "INT4"


class QuantMethod(StrEnum):
    NONE = "None"
    AWQ = "AWQ"
    GPTQ = "GPTQ"
    BITS_AND_BYTES = "BitsAndBytes"
    FP8 = "FP8"
    GGUF = "GGUF"


class GgufType(StrEnum):
    """llama.cpp quantization types of a GGUF file (the names in the file name)."""

    Q2_K = "Q2_K"
    Q3_K_S = "Q3_K_S"
    Q3_K_M = "Q3_K_M"
    Q3_K_L = "Q3_K_L"
    Q4_0 = "Q4_0"
    Q4_K_S = "Q4_K_S"
    Q4_K_M = "Q4_K_M"
    Q5_0 = "Q5_0"
    Q5_K_S = "Q5_K_S"
    Q5_K_M = "Q5_K_M"
    Q6_K = "Q6_K"
    Q8_0 = "Q8_0"
    F16 = "F16"


class KvCacheDtype(StrEnum):
    AUTO = "Auto"
    FP16 = "FP16"
    FP8 = "FP8"


class ScalingMetric(StrEnum):
    QUEUE_DEPTH = "QueueDepth"
    RUNNING_REQUESTS = "RunningRequests"
    KV_CACHE_USAGE = "KVCacheUsage"
    CPU = "CPU"
    GPU_UTILIZATION = "GPUUtilization"


class ScalingBackend(StrEnum):
    AUTO = "Auto"
    HPA = "HPA"
    KEDA = "KEDA"


class Tier(StrEnum):
    EDGE = "Edge"
    ON_PREM = "OnPrem"
    CLOUD = "Cloud"


class PlacementStrategy(StrEnum):
    ORDERED = "Ordered"
    SPREAD = "Spread"
    CHEAPEST = "Cheapest"


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


# Precisions from the highest to the lowest: `precision: Auto` walks this list and takes the first that fits.
PRECISION_ORDER: tuple[Precision, ...] = (
    Precision.BF16,
    Precision.FP8,
    Precision.INT8,
    Precision.INT4,
)
