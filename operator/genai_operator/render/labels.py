"""The labels DESIGN.md promises on every child, and the selectors built from them.

Objects that span pools (Service, PDB, autoscaler) carry the primary pool's engine as
app.kubernetes.io/name: a ModelDeployment mixing engines across pools (llama.cpp on the edge, vLLM in the
cloud) still has one name for its shared objects, and the per-pool Deployments carry their own engine.
"""

from __future__ import annotations

from genai_operator import FIELD_MANAGER

NAME = "app.kubernetes.io/name"
INSTANCE = "app.kubernetes.io/instance"
MANAGED_BY = "app.kubernetes.io/managed-by"
COMPONENT = "app.kubernetes.io/component"
MODEL_DEPLOYMENT = "genaiops.dev/model-deployment"
POOL = "genaiops.dev/pool"
COMPONENT_VALUE = "inference"


def common_labels(md_name: str, engine_label: str) -> dict[str, str]:
    """Labels of objects that belong to the whole ModelDeployment."""
    return {
        NAME: engine_label,
        INSTANCE: md_name,
        MANAGED_BY: FIELD_MANAGER,
        COMPONENT: COMPONENT_VALUE,
        MODEL_DEPLOYMENT: md_name,
    }


def pool_labels(md_name: str, engine_label: str, pool: str) -> dict[str, str]:
    """Labels of pool-specific objects (a pool's Deployment and its pods)."""
    return {**common_labels(md_name, engine_label), POOL: pool}


def md_selector(md_name: str) -> dict[str, str]:
    """Every pod of the ModelDeployment, in all pools: the same selector as status.selector (/scale)."""
    return {MODEL_DEPLOYMENT: md_name}


def pool_selector(md_name: str, pool: str) -> dict[str, str]:
    return {MODEL_DEPLOYMENT: md_name, POOL: pool}
