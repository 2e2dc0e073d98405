"""The standalone proxy: Envoy next to the endpoint picker, for clusters without a Gateway (edge sites).

As the Gateway API Inference Extension's standalone chart deploys it: Envoy listens on 8081, asks the
picker (ext_proc over TLS on localhost:9002, the picker's self-signed certificate) for each request's
endpoint, and forwards to the address the picker returns in x-gateway-destination-endpoint (an
ORIGINAL_DST cluster). Readiness is Envoy's /ready on 19001; the admin interface stays on localhost.

Timeouts: the ext_proc message timeout and the route timeout cover the queue timeout (the picker holds a
request while no replica can take it) plus the request timeout (generation), so Envoy never gives up on
a request the picker still holds.
"""

from __future__ import annotations

from typing import Any

import yaml

from genai_operator.render.endpoint_picker import EXT_PROC_PORT, restricted

ENVOY_IMAGE = "docker.io/envoyproxy/envoy:distroless-v1.33.2"
PROXY_PORT = 8081
READY_PORT = 19001
ADMIN_PORT = 19000
ROUTER_FILTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"


def listener(
    name: str, port: int, routes: list[dict[str, Any]], filters: list[dict[str, Any]], *, address: str = "0.0.0.0"
) -> dict[str, Any]:
    manager: dict[str, Any] = {
        "@type": HCM,
        "stat_prefix": name,
        "route_config": {"name": name, "virtual_hosts": [{"name": name, "domains": ["*"], "routes": routes}]},
        "http_filters": [*filters, {"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER_FILTER}}],
    }
    return {
        "name": name,
        "address": {"socket_address": {"address": address, "port_value": port}},
        "filter_chains": [
            {"filters": [{"name": "envoy.filters.network.http_connection_manager", "typed_config": manager}]}
        ],
    }


def envoy_config(
    total_seconds: int, *, name: str = "inference", address: str = "0.0.0.0", port: int = PROXY_PORT
) -> dict[str, Any]:
    """The picker's proxy on `address`:`port`; a site proxy moves it to localhost behind its fallback."""
    timeout = f"{total_seconds}s"
    ready = listener(
        "ready",
        READY_PORT,
        [{"match": {"prefix": "/stats/prometheus"}, "route": {"cluster": "admin"}}],
        [
            {
                "name": "envoy.filters.http.health_check",
                "typed_config": {
                    "@type": "type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck",
                    "pass_through_mode": False,
                    "headers": [{"name": ":path", "string_match": {"exact": "/ready"}}],
                },
            }
        ],
    )
    ext_proc = {
        "name": "envoy.filters.http.ext_proc",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor",
            "grpc_service": {"envoy_grpc": {"cluster_name": "ext_proc", "authority": f"localhost:{EXT_PROC_PORT}"}},
            "processing_mode": {
                "request_header_mode": "SEND",
                "response_header_mode": "SEND",
                "request_body_mode": "FULL_DUPLEX_STREAMED",
                "response_body_mode": "FULL_DUPLEX_STREAMED",
                "request_trailer_mode": "SEND",
                "response_trailer_mode": "SEND",
            },
            "message_timeout": timeout,
        },
    }
    route = {"cluster": "picked_endpoint", "timeout": timeout, "idle_timeout": timeout}
    proxy = listener(name, port, [{"match": {"prefix": "/"}, "route": route}], [ext_proc], address=address)
    return {
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": ADMIN_PORT}}},
        "static_resources": {
            "listeners": [ready, proxy],
            "clusters": [
                static_cluster("admin", ADMIN_PORT, {}),
                {
                    "name": "picked_endpoint",
                    "type": "ORIGINAL_DST",
                    "lb_policy": "CLUSTER_PROVIDED",
                    "connect_timeout": "10s",
                    "original_dst_lb_config": {
                        "use_http_header": True,
                        "http_header_name": "x-gateway-destination-endpoint",
                    },
                },
                static_cluster(
                    "ext_proc",
                    EXT_PROC_PORT,
                    {
                        "transport_socket": {
                            "name": "envoy.transport_sockets.tls",
                            "typed_config": {
                                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3."
                                "UpstreamTlsContext",
                                "common_tls_context": {"validation_context": {}},
                            },
                        },
                        "typed_extension_protocol_options": {
                            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                                "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                                "explicit_http_config": {"http2_protocol_options": {}},
                            }
                        },
                    },
                ),
            ],
        },
    }


def static_cluster(name: str, port: int, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "type": "STATIC",
        "connect_timeout": "1s",
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {"endpoint": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": port}}}}
                    ]
                }
            ],
        },
        **extra,
    }


def proxy_container(envoy: dict[str, Any]) -> dict[str, Any]:
    """Envoy with `envoy` (envoy_config, or a site proxy's) as its bootstrap."""
    config = yaml.safe_dump(envoy, sort_keys=False).replace("$", "$$")
    return restricted(
        {
            "name": "envoy",
            "image": ENVOY_IMAGE,
            "imagePullPolicy": "IfNotPresent",
            "command": ["envoy"],
            "args": ["--service-node", "endpoint-picker", "--drain-time-s", "60", "--config-yaml", config],
            "ports": [
                {"name": "http", "containerPort": PROXY_PORT},
                {"name": "proxy-metrics", "containerPort": READY_PORT},
            ],
            "readinessProbe": {"httpGet": {"path": "/ready", "port": READY_PORT}, "periodSeconds": 5},
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
            "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
            "terminationMessagePolicy": "FallbackToLogsOnError",
        }
    )


def proxy_service_port() -> dict[str, Any]:
    return {"name": "proxy", "port": PROXY_PORT, "targetPort": PROXY_PORT, "protocol": "TCP", "appProtocol": "http"}
