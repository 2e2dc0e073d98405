"""Deterministic child names (valid DNS labels; see dns_names for how long names are shortened)."""

from __future__ import annotations

from genai_operator.api.cache import CacheMode
from genai_operator.formats.dns_names import MAX_NAME, MAX_STATEFULSET_NAME, cache_claim_name, fit_name
from genai_operator.placement.types import Pool

__all__ = [
    "MAX_NAME",
    "autoscaler_name",
    "cache_claim_name",
    "deployment_name",
    "fit_name",
    "pdb_name",
    "service_name",
    "workload_name",
]


def deployment_name(md_name: str, pool: str) -> str:
    return fit_name(md_name, pool)


def workload_name(md_name: str, pool: Pool) -> str:
    """The pool's Deployment, or its StatefulSet (NodeLocal cache), whose name leaves room for the
    revision hash the StatefulSet controller appends in a pod label."""
    if pool.cache.mode == CacheMode.NODE_LOCAL:
        return fit_name(md_name, pool.name, limit=MAX_STATEFULSET_NAME)
    return deployment_name(md_name, pool.name)


def service_name(md_name: str) -> str:
    """The ModelDeployment's own name; a Service name must start with a letter (DNS-1035), so a name
    starting with a digit gets an `md-` prefix instead of a Service the API server would reject."""
    return md_name if md_name[:1].isalpha() else fit_name("md", md_name)


def pdb_name(md_name: str) -> str:
    return md_name


def autoscaler_name(md_name: str) -> str:
    return md_name
