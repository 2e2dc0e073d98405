"""A Prometheus Operator ServiceMonitor `<md>`, so the engine metrics the autoscaler reads are scraped.

It selects the ModelDeployment's Service (whose labels carry genaiops.dev/model-deployment) and scrapes
each engine's metrics path on the named `http` port. Scraping through the Service also attaches the
`service="<md>"` label that the llama.cpp, TEI and TGI autoscaling queries select on. Rendered only when the
caller found the monitoring.coreos.com CRDs installed.
"""

from __future__ import annotations

from typing import Any

from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.placement.types import PlacementDecision
from genai_operator.render.labels import md_selector
from genai_operator.render.metadata import md_namespace, shared_child_meta
from genai_operator.render.names import service_name
from genai_operator.render.signals import engine_groups

SCRAPE_INTERVAL = "15s"


def build_service_monitor(
    md: ModelDeployment, decision: PlacementDecision, engine_label: str, *, owner_uid: str | None = None
) -> dict[str, Any]:
    name = md.metadata.name
    endpoints = []
    seen: set[tuple[str, str]] = set()
    for group in engine_groups(md, decision):
        key = (str(group.profile.metrics.port), group.profile.metrics.path)
        if key in seen:
            continue
        seen.add(key)
        endpoints.append({"port": key[0], "path": key[1], "interval": SCRAPE_INTERVAL, "scheme": "http"})
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": shared_child_meta(md, service_name(name), engine_label, owner_uid=owner_uid),
        "spec": {
            "selector": {"matchLabels": md_selector(name)},
            "namespaceSelector": {"matchNames": [md_namespace(md)]},
            "endpoints": endpoints,
        },
    }
