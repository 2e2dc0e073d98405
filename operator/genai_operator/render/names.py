"""Deterministic child names, always valid DNS labels of at most 63 characters.

Too-long names keep a readable prefix and end in 8 hex digits of the SHA-256 of the full name, so two
long names that share a prefix still differ, and the same input always gives the same name.
"""

from __future__ import annotations

import hashlib

MAX_NAME = 63
HASH_LENGTH = 8


def fit_name(*parts: str) -> str:
    full = "-".join(parts)
    if len(full) <= MAX_NAME:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:HASH_LENGTH]
    head = full[: MAX_NAME - HASH_LENGTH - 1].rstrip("-")
    return f"{head}-{digest}"


def deployment_name(md_name: str, pool: str) -> str:
    return fit_name(md_name, pool)


def service_name(md_name: str) -> str:
    """The ModelDeployment's own name; a Service name must start with a letter (DNS-1035), so a name
    starting with a digit gets an `md-` prefix instead of a Service the API server would reject."""
    return md_name if md_name[:1].isalpha() else fit_name("md", md_name)


def pdb_name(md_name: str) -> str:
    return md_name


def autoscaler_name(md_name: str) -> str:
    return md_name
