"""The proxy of a site routing unit: Envoy that tries the site's own replicas first, the global route after.

Two layers in one Envoy. Inside, on localhost:8082, the standalone proxy of router_proxy.py asks the
site's picker (whose InferencePool holds only this pool's pods) for an endpoint. Outside, on 8081, one
route sends every request to the cluster `site_first`: priority 0 is that inner listener, priority 1 the
global routing endpoint (the global proxy's Service, or the model's Service when a Gateway routes, since
the operator does not know the Gateway's address). Neither has health checks, so both count as healthy
and every first attempt stays on the site.

The fallback is the route's retry policy, not health: a site without a ready replica makes its picker
answer 503 at once (the site picker runs without flow control, so it never holds a request), a picker
that is down makes the inner ext_proc filter answer 500, a replica that refuses the connection gives 503,
a saturated site that sheds gives 429. On those, one retry goes out, and the previous_priorities retry
selector excludes the priority already tried, so the retry lands on the global endpoint, which may hold
the request while a replica starts anywhere. 504 (the generation outlived its timeout) is not retried: it
would run the whole generation again. Envoy buffers a request body for the retry up to BUFFER_BYTES; a
larger request that fails on the site gets the site's answer.
"""

from __future__ import annotations

from typing import Any

from genai_operator.render.router_proxy import PROXY_PORT, envoy_config, listener

SITE_PORT = 8082  # the inner, site-only proxy; on localhost, reached only through the fallback cluster
SITE_CLUSTER = "site_first"
RETRIED_STATUSES = (429, 500, 502, 503)
BUFFER_BYTES = 8 * 1024 * 1024  # long prompts fit; Envoy's default (1 MiB) would cut off the retry of big ones
PREVIOUS_PRIORITIES = (
    "type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig"
)


def site_envoy_config(request_seconds: int, fallback_seconds: int, fallback: tuple[str, int]) -> dict[str, Any]:
    """`request_seconds`: the site attempt (no queue: the site picker never holds); `fallback_seconds`: the
    global endpoint's own timeout (queue plus generation); `fallback`: its host and port."""
    config = envoy_config(request_seconds, name="site", address="127.0.0.1", port=SITE_PORT)
    total = f"{request_seconds + fallback_seconds}s"
    route = {
        "cluster": SITE_CLUSTER,
        "timeout": total,  # covers both attempts
        "idle_timeout": total,
        "retry_policy": {
            "retry_on": "retriable-status-codes,reset,connect-failure",
            "retriable_status_codes": list(RETRIED_STATUSES),
            "num_retries": 1,
            "retry_priority": {
                "name": "envoy.retry_priorities.previous_priorities",
                "typed_config": {"@type": PREVIOUS_PRIORITIES, "update_frequency": 1},
            },
        },
    }
    outer = listener("site_first", PROXY_PORT, [{"match": {"prefix": "/"}, "route": route}], [])
    outer["per_connection_buffer_limit_bytes"] = BUFFER_BYTES
    resources = config["static_resources"]
    resources["listeners"].append(outer)
    resources["clusters"].append(site_first_cluster(fallback))
    return config


def site_first_cluster(fallback: tuple[str, int]) -> dict[str, Any]:
    host, port = fallback

    def priority(level: int, address: str, port_value: int) -> dict[str, Any]:
        socket = {"address": address, "port_value": port_value}
        return {"priority": level, "lb_endpoints": [{"endpoint": {"address": {"socket_address": socket}}}]}

    return {
        "name": SITE_CLUSTER,
        # DNS for the global Service's name; the loopback address resolves to itself.
        "type": "STRICT_DNS",
        "connect_timeout": "10s",
        "load_assignment": {
            "cluster_name": SITE_CLUSTER,
            "endpoints": [priority(0, "127.0.0.1", SITE_PORT), priority(1, host, port)],
        },
    }
