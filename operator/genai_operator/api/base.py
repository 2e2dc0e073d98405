"""The pydantic base of every API model: camelCase on the wire, unknown fields rejected."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """Kubernetes API conventions: camelCase field names; unknown fields are an error, not ignored.

    Unknown fields are rejected so a typo such as `spec.quantisation` fails loudly at the CLI; the API
    server prunes them anyway, so the operator never sees them.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        use_enum_values=False,
        validate_default=True,
    )

    def to_dict(self) -> dict[str, Any]:
        """The wire form: camelCase keys, enums as strings, unset optional fields omitted."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# Shared bounds: every string and list that a CEL rule touches carries a maxLength / maxItems, as the
# API server's CEL cost estimator requires.
NAME_MAX = 63
NAME_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
URI_MAX = 512
# A DNS-1123 subdomain (claim and Secret names): what the API server accepts as an object name.
SUBDOMAIN_PATTERN = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
# A container image reference: no whitespace or control characters (the API server rejects them in a pod).
IMAGE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$"
# Label keys (an optional DNS-subdomain prefix and a name) and values, as metav1 validates them.
LABEL_KEY_PATTERN = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
LABEL_VALUE_PATTERN = r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$"
LIST_MAX = 16
