"""`genai-sandbox`: a real control plane for people, on this machine, until Ctrl-C.

genai-sandbox up --nodes examples/inventory/nodes.yaml     # prints the KUBECONFIG to export
genai-sandbox build                                        # only build (or check) the binaries
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import tempfile
import threading
from pathlib import Path

from genai_sandbox.binaries import locate
from genai_sandbox.cluster import ControlPlane
from genai_sandbox.components import ControlPlaneOptions
from genai_sandbox.errors import SandboxError
from genai_sandbox.nodes import read_inventory


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genai-sandbox", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start etcd, kube-apiserver, controller-manager, scheduler and kwok")
    up.add_argument(
        "--workdir",
        type=Path,
        help="where PKI, etcd data, logs and the kubeconfig go (default: a new temporary directory)",
    )
    up.add_argument(
        "--nodes",
        type=Path,
        action="append",
        default=[],
        help="fake nodes from a `kubectl get nodes -o yaml` file (repeatable)",
    )
    up.add_argument("--copies", type=int, default=1, help="create each inventory node this many times")
    up.add_argument("--port", type=int, help="the apiserver's port on 127.0.0.1 (default: a free one)")
    commands.add_parser("build", help="build the control-plane binaries (or check the cache)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "build":
            print(locate().directory)
            return 0
        for path in args.nodes:
            if not path.is_file():
                print(f"genai-sandbox: --nodes {path}: no such file", file=sys.stderr)
                return 2
        if args.copies < 1:
            print("genai-sandbox: --copies must be 1 or more", file=sys.stderr)
            return 2
        workdir = args.workdir or Path(tempfile.mkdtemp(prefix="genai-sandbox-"))
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with ControlPlane(ControlPlaneOptions(workdir=workdir, apiserver_port=args.port)) as plane:
            names = [n for path in args.nodes for n in plane.add_nodes(read_inventory(path), args.copies)]
            plane.wait_nodes_ready(names)
            print(f"genai-sandbox: up at {plane.server} with {len(names)} fake nodes; logs in {workdir}/logs")
            print(f"export KUBECONFIG={plane.kubeconfig_path}")
            print("genai-sandbox: Ctrl-C stops it", flush=True)
            with contextlib.suppress(KeyboardInterrupt):
                stop.wait()
        return 0
    except SandboxError as exc:
        print(f"genai-sandbox: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
