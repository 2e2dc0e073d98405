#!/usr/bin/env python3
"""A stand-in for an inference engine in the kind suite: installed as `vllm`, it accepts `vllm serve MODEL
[--flag value]...`, listens on --port and answers what the operator and its probes ask (/health, /v1/models,
/metrics). Standard library only; writes nothing, so it runs under readOnlyRootFilesystem."""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def flag(name: str, default: str) -> str:
    args = sys.argv[1:]
    return args[args.index(name) + 1] if name in args and args.index(name) + 1 < len(args) else default


PORT = int(flag("--port", "8000"))
MODEL = flag("--served-model-name", "model")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/metrics"):
            body, kind = b"vllm:num_requests_waiting 0\nvllm:num_requests_running 0\n", "text/plain"
        elif self.path.startswith("/v1/models"):
            body, kind = (
                json.dumps({"object": "list", "data": [{"id": MODEL, "object": "model"}]}).encode(),
                "application/json",
            )
        else:
            body, kind = b"ok\n", "text/plain"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
