"""Children whose spec the API server freezes after creation: what a reconcile may still change. Pure.

- PersistentVolumeClaim: only spec.resources.requests.storage may change, and only upwards (expansion);
  a claim is never shrunk or re-created (that would drop the cache), so a smaller or otherwise different
  desired claim is left as it is.
- StatefulSet: volumeClaimTemplates, serviceName, podManagementPolicy and selector are fixed; the desired
  object keeps the current values of those (a NodeLocal cache keeps the claim size it was created with).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from genai_operator.formats.quantity import parse_quantity

STATEFULSET_FIXED = ("volumeClaimTemplates", "serviceName", "podManagementPolicy", "selector")


def _storage(obj: Mapping[str, Any]) -> str | None:
    requests = ((obj.get("spec") or {}).get("resources") or {}).get("requests") or {}
    value = requests.get("storage")
    return str(value) if value is not None else None


def within_frozen_fields(desired: dict[str, Any], current: Mapping[str, Any]) -> dict[str, Any] | None:
    """The desired object reduced to what may change on `current`; None when nothing may change at all."""
    kind = desired.get("kind")
    if kind == "PersistentVolumeClaim":
        want, have = _storage(desired), _storage(current)
        if want is None or have is None or parse_quantity(want) <= parse_quantity(have):
            return None
        grown = copy.deepcopy(dict(current))
        grown.pop("status", None)
        grown["spec"]["resources"]["requests"]["storage"] = want
        return grown
    if kind == "StatefulSet":
        spec = dict(desired.get("spec") or {})
        for field in STATEFULSET_FIXED:
            if field in (current.get("spec") or {}):
                spec[field] = current["spec"][field]
        return {**desired, "spec": spec}
    return desired
