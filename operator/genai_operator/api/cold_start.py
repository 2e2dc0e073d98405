"""status.coldStart: how long the newest ready replica took from pod creation to Ready, and where the time went."""

from __future__ import annotations

from pydantic import Field

from genai_operator.api.base import ApiModel


class ColdStartStatus(ApiModel):
    """The cold start of the newest ready replica (kept while no replica is ready)."""

    pod: str = Field(description="The pod measured: the newest ready replica.")
    started_at: str = Field(description="When the pod was created.", json_schema_extra={"format": "date-time"})
    ready_at: str = Field(description="When the pod became Ready.", json_schema_extra={"format": "date-time"})
    download_seconds: int = Field(
        ge=0,
        description="The model loader's run (download, or the check of mounted files); 0 when vLLM streams the "
        "weights (spec.model.loadFormat Stream), whose download is part of the load.",
    )
    load_seconds: int = Field(
        ge=0, description="From the end of the download (or the engine's start) to Ready: loading and warm-up."
    )
    total_seconds: int = Field(
        ge=0, description="From pod creation to Ready: scheduling, image pulls, download and load."
    )
