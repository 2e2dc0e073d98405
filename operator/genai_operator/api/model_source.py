"""Where a ModelDeployment's weights come from: the model's URI, its shape, and LoRA adapters on top."""

from __future__ import annotations

from pydantic import Field, model_validator

from genai_operator.api.base import NAME_MAX, NAME_PATTERN, SUBDOMAIN_PATTERN, URI_MAX, ApiModel
from genai_operator.api.cel import validations
from genai_operator.api.model_loading import SOURCE_RULES, Download, LoadFormat, check_stream_source

PARAMETERS_PATTERN = r"^[0-9]+(\.[0-9]+)?[KMBTkmbt]$"
# pvc:// names a claim, which must be a DNS-1123 subdomain or the pod is rejected by the API server.
URI_PATTERN = rf"^((hf|s3|gs|oci|file)://[^\s]+|pvc://{SUBDOMAIN_PATTERN}(/[^\s]*)?)$"
ADAPTER_URI_PATTERN = URI_PATTERN  # every scheme; oci:// adapters are always pulled by the model loader
SECRET_NAME_PATTERN = NAME_PATTERN.replace("([-a-z0-9]*", "([-.a-z0-9]*")
ADAPTERS_MAX = 16
# vLLM accepts these LoRA ranks (--max-lora-rank); the rank sizes the adapter memory it reserves.
LORA_RANKS = (8, 16, 32, 64, 128, 256, 320, 512)


class ModelArchitecture(ApiModel):
    """The attention shape of the model; needed only for models the built-in catalog does not know."""

    layers: int = Field(ge=1, le=1024, description="Number of transformer layers (num_hidden_layers).")
    attention_heads: int | None = Field(
        default=None,
        ge=1,
        le=1024,
        description="Query attention heads (num_attention_heads); tensor parallelism must divide it.",
    )
    kv_heads: int = Field(
        ge=1,
        le=1024,
        description="Key/value heads (num_key_value_heads); fewer than attention heads with grouped-query attention.",
    )
    head_dim: int = Field(ge=1, le=4096, description="Dimension of one attention head.")
    hidden_size: int = Field(ge=1, le=131072, description="Hidden size (d_model).")
    vocab_size: int = Field(default=32000, ge=1, le=4194304, description="Vocabulary size.")
    experts: int = Field(
        default=0, ge=0, le=1024, description="Experts per layer for Mixture-of-Experts models; 0 for dense models."
    )


class ModelSource(ApiModel):
    """Where the weights come from, how big the model is and how its weights reach the engine."""

    model_config = {**ApiModel.model_config, "json_schema_extra": validations(*SOURCE_RULES)}

    uri: str = Field(
        max_length=URI_MAX,
        pattern=URI_PATTERN,
        description="Model location: hf://org/model[@revision] (hf://org/repo/file.gguf picks one GGUF "
        "file), s3://bucket/prefix, gs://bucket/prefix, oci://registry/repo:tag or @sha256:digest (an OCI "
        "artifact or image, pulled by the model loader, or mounted as an image volume where the operator is set "
        "so), pvc://claim/path or file:///path already on the nodes. The revision is part of the "
        "cache key: pin a commit for reproducible rollouts.",
    )
    parameters: str | None = Field(
        default=None,
        max_length=16,
        pattern=PARAMETERS_PATTERN,
        description="Parameter count such as 8B, 70.6B or 500M; optional when the built-in catalog knows the model.",
    )
    architecture: ModelArchitecture | None = Field(
        default=None, description="Attention shape; optional when the built-in catalog knows the model."
    )
    credentials_secret: str | None = Field(
        default=None,
        max_length=253,
        pattern=SECRET_NAME_PATTERN,
        description="Name of a Secret in the same namespace holding the download credentials (key HF_TOKEN "
        "for hf://, AWS_* keys for s3:// and gs://, .dockerconfigjson for oci://); referenced by name, never read "
        "by the operator.",
    )
    download: Download | None = Field(
        default=None, description="How the model loader downloads the weights (parallel connections)."
    )
    load_format: LoadFormat = Field(
        default=LoadFormat.COPY,
        description="Copy: the model loader copies the weights to the pod's cache volume first. Stream (s3:// and "
        "gs:// on vLLM): vLLM streams the safetensors from the bucket into GPU memory (Run:ai Model Streamer), "
        "with the credentialsSecret's keys in its environment; no copy on disk.",
    )

    @model_validator(mode="after")
    def _streamable(self) -> ModelSource:
        broken = check_stream_source(self.uri, self.load_format)
        if broken:
            raise ValueError(broken)
        return self

    @property
    def streamed(self) -> bool:
        """Whether vLLM streams the weights from the bucket (no copy on disk, no download before the engine)."""
        return self.load_format == LoadFormat.STREAM


class LoraAdapter(ApiModel):
    """A LoRA adapter served on the same replicas as its base model (vLLM), under its own model name."""

    name: str = Field(
        max_length=NAME_MAX,
        pattern=NAME_PATTERN,
        description="Model name clients request to use the adapter (the OpenAI API's `model` field).",
    )
    uri: str = Field(
        max_length=URI_MAX,
        pattern=ADAPTER_URI_PATTERN,
        description="Adapter location, with the same schemes as spec.model.uri (hf://org/adapter[@revision], "
        "s3://, gs://, oci:// (always pulled), pvc://, file://); fetched with the model's credentialsSecret.",
    )
