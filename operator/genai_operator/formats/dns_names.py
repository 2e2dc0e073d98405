"""Deterministic object names that are always valid DNS labels of at most 63 characters.

Too-long names keep a readable prefix and end in 8 hex digits of the SHA-256 of the full name, so two
long names that share a prefix still differ, and the same input always gives the same name.
"""

from __future__ import annotations

import hashlib

MAX_NAME = 63
HASH_LENGTH = 8


# The StatefulSet controller labels each pod `controller-revision-hash: <name>-<hash of up to 10
# characters>`, a label value of at most 63 characters: a longer StatefulSet name never gets a pod.
MAX_STATEFULSET_NAME = MAX_NAME - 11


def fit_name(*parts: str, limit: int = MAX_NAME) -> str:
    full = "-".join(parts)
    if len(full) <= limit:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:HASH_LENGTH]
    head = full[: limit - HASH_LENGTH - 1].rstrip("-")
    return f"{head}-{digest}"


def cache_claim_name(md_name: str, pool: str) -> str:
    """The shared model-cache claim of one ModelDeployment on one pool."""
    return fit_name(md_name, pool, "cache")
