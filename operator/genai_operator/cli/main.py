"""The `genai-operator` command: run, render, plan, crd, demo.

Bad input (a file that is not there, YAML that does not parse, a field the API rejects) exits 2 with a
message naming the file and field on stderr; everything else goes to the logger or, for reports, stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

import yaml

from genai_operator import __version__
from genai_operator.api.enums import ScalingBackend
from genai_operator.api.loading import ManifestError, read_documents, split_manifests
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.placementpool import PlacementPool
from genai_operator.cli.plan_table import render_table
from genai_operator.placement.assemble import build_pools
from genai_operator.placement.inventory import NodeView, node_view
from genai_operator.placement.pools import UnknownGpuTypeError
from genai_operator.placement.types import Pool
from genai_operator.planning.autoscaler_choice import choose_autoscaler
from genai_operator.planning.fleet_report import plan_all
from genai_operator.planning.group_choice import group_api_missing
from genai_operator.planning.plan import SpecError, plan_model_deployment
from genai_operator.settings import Settings

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    """Bad input: printed on stderr, exit code 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="genai-operator",
        description="Size, place and serve generative-AI models on Kubernetes (genaiops.dev/v1alpha1).",
    )
    parser.add_argument("--version", action="version", version=f"genai-operator {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run the operator against the current kubeconfig or in-cluster config")
    run.add_argument(
        "--namespace",
        "-n",
        action="append",
        default=[],
        metavar="NS",
        help="watch this namespace (repeatable); default: all namespaces",
    )
    run.add_argument("--all-namespaces", "-A", action="store_true", help="watch every namespace (default)")
    run.add_argument("--metrics-port", type=int, default=8080, help="port of /metrics and /healthz (0: off)")
    run.add_argument(
        "--standalone",
        action="store_true",
        help="run alone, without the leader lease (default: reconcile only while holding Lease genai-operator "
        "in the operator's namespace; other instances stand by)",
    )
    run.add_argument("--kubeconfig", default=None, help="kubeconfig file (default: in-cluster, then ~/.kube)")
    run.add_argument("--verbose", "-v", action="store_true", help="debug logging")

    inventory_help = {
        "nodes": "nodes to plan against: what `kubectl get nodes -o yaml` prints",
        "pools": "PlacementPool manifests (default: pools discovered from node labels)",
    }
    render = sub.add_parser("render", help="print every object the operator would create, as YAML")
    render.add_argument("-f", "--filename", required=True, help="ModelDeployment manifest file, directory or -")
    render.add_argument("--nodes", help=inventory_help["nodes"])
    render.add_argument("--pools", help=inventory_help["pools"])
    render.add_argument(
        "--keda",
        action="store_true",
        help="the cluster has KEDA: backend Auto renders a ScaledObject instead of an HPA (an explicit "
        "backend, or minReplicas 0, renders what it asks for either way)",
    )
    render.add_argument(
        "--service-monitor",
        action="store_true",
        help="the cluster has the Prometheus Operator: add a ServiceMonitor per ModelDeployment",
    )

    plan = sub.add_parser("plan", help="sizing and placement report per ModelDeployment")
    plan.add_argument("-f", "--filename", required=True, help="ModelDeployment manifest file, directory or -")
    plan.add_argument("--nodes", help=inventory_help["nodes"])
    plan.add_argument("--pools", help=inventory_help["pools"])
    plan.add_argument("-o", "--output", choices=["table", "json"], default="table", help="output format")

    crd = sub.add_parser("crd", help="print the CustomResourceDefinitions generated from the API models")
    crd.add_argument("--output-dir", default=None, help="write one file per CRD into this directory instead")

    demo = sub.add_parser("demo", help="run the operator on an in-process emulated cluster with the examples")
    demo.add_argument("--examples", default="examples", help="directory of ModelDeployment manifests")
    demo.add_argument("--nodes", default=None, help="node inventory (default: examples/inventory/nodes.yaml)")
    demo.add_argument("--pools", default=None, help="PlacementPools (default: examples/inventory/pools.yaml)")
    demo.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for convergence")
    demo.add_argument("--show-objects", action="store_true", help="also print every object created, as YAML")
    return parser


def _load(path: str) -> tuple[list[ModelDeployment], list[PlacementPool], list[dict[str, Any]]]:
    # Bytes, not text: stdin's own decoding would let binary input through as surrogates (or fail unexplained).
    return split_manifests(read_documents(path, sys.stdin.buffer if path == "-" else None))


def _inventory(
    nodes_path: str | None, pools_path: str | None, extra_pools: Sequence[PlacementPool] = ()
) -> list[Pool] | None:
    nodes: list[NodeView] | None = None
    if nodes_path:
        _, _, node_docs = _load(nodes_path)
        if not node_docs:
            raise UsageError(f"{nodes_path}: no Node objects; pass what `kubectl get nodes -o yaml` prints")
        try:
            nodes = [node_view(n) for n in node_docs]
        except ValueError as exc:
            raise UsageError(f"{nodes_path}: {exc}") from None
    manifests = list(extra_pools)
    if pools_path:
        _, pools, _ = _load(pools_path)
        if not pools:
            raise UsageError(f"{pools_path}: no PlacementPool objects")
        manifests.extend(pools)
    try:
        return build_pools(manifests, nodes)
    except UnknownGpuTypeError as exc:
        raise UsageError(str(exc)) from None


def _deployments(path: str) -> tuple[list[ModelDeployment], list[PlacementPool]]:
    deployments, pools, _ = _load(path)
    if not deployments:
        raise UsageError(
            f"{path}: no ModelDeployment objects (kind: ModelDeployment, apiVersion: genaiops.dev/v1alpha1)"
        )
    return deployments, pools


def cmd_render(args: argparse.Namespace) -> int:
    from genai_operator.render.bundle import RENDER_SPEC_ERRORS, render_children

    settings = _settings()
    deployments, inline_pools = _deployments(args.filename)
    pools = _inventory(args.nodes, args.pools, inline_pools)
    if pools is None:
        _assumed("no --nodes or --pools: one default pool of any node with the allowed GPU types")
    objects: list[dict[str, Any]] = []
    failed = False
    for md in deployments:
        try:
            decision = plan_model_deployment(md, pools, settings)
        except SpecError as exc:
            raise UsageError(f"{md.key()}: {exc}") from None
        if not decision.fits:
            print(f"{md.key()}: does not fit: " + "; ".join(decision.reasons), file=sys.stderr)
            failed = True
            continue
        if group_api_missing(decision, lws_available=False) is not None:
            _assumed(f"{md.key()}: the LeaderWorkerSet CRD and controller installed (a replica spans several nodes)")
        try:
            children = render_children(
                md,
                decision,
                owner_uid=None,
                autoscaler=_render_autoscaler(md, args.keda, settings),
                service_monitor=args.service_monitor,
                routing=_render_routing(md),
                settings=settings,
            )
        except RENDER_SPEC_ERRORS as exc:
            raise UsageError(f"{md.key()}: {exc}") from None
        objects.extend(children)
    sys.stdout.write(yaml.safe_dump_all(objects, sort_keys=False))
    return 1 if failed else 0


def _assumed(what: str) -> None:
    print(f"render assumed: {what}", file=sys.stderr)


def _render_routing(md: ModelDeployment) -> bool:
    """spec.routing renders its objects; the cluster is assumed to serve the APIs they need."""
    routing = md.spec.routing
    if routing is None:
        return False
    needs = "the InferencePool CRD" + (" and the Gateway API HTTPRoute CRD" if routing.gateway else "")
    _assumed(f"{md.key()}: {needs} installed (spec.routing)")
    return True


def _render_autoscaler(md: ModelDeployment, keda: bool, settings: Settings) -> ScalingBackend | None:
    """What the operator would create: an explicit backend, or KEDA for minReplicas 0, whatever --keda says
    (the cluster is assumed to have it, and stderr says so); --keda decides backend Auto only."""
    scaling = md.spec.scaling
    if scaling is None:
        return None
    wants_keda = scaling.backend == ScalingBackend.KEDA or (
        scaling.backend == ScalingBackend.AUTO and scaling.min_replicas == 0
    )
    choice = choose_autoscaler(md, keda_available=keda or wants_keda, settings=settings)
    if choice.backend == ScalingBackend.KEDA and not keda:
        why = "scaling.backend: KEDA" if scaling.backend == ScalingBackend.KEDA else "minReplicas: 0 needs it"
        _assumed(f"{md.key()}: KEDA is installed ({why}); a KEDA ScaledObject is rendered")
    elif scaling.backend == ScalingBackend.AUTO:
        has = "KEDA is installed (--keda)" if keda else "KEDA is not installed (pass --keda if it is)"
        _assumed(f"{md.key()}: {has}; backend Auto renders {choice.backend.value if choice.backend else 'nothing'}")
    if choice.ready is False:
        _assumed(f"{md.key()}: {choice.message}")
    return choice.backend


def cmd_plan(args: argparse.Namespace) -> int:
    deployments, inline_pools = _deployments(args.filename)
    pools = _inventory(args.nodes, args.pools, inline_pools)
    try:
        result = plan_all(deployments, pools, _settings())
    except SpecError as exc:
        raise UsageError(str(exc)) from None
    if args.output == "json":
        print(json.dumps(result.entries, indent=2))
    else:
        print(render_table(result))
    return 0


def cmd_crd(args: argparse.Namespace) -> int:
    from pathlib import Path

    from genai_operator.api.crdfiles import crd_texts, write_crds

    if args.output_dir:
        for path in write_crds(Path(args.output_dir)):
            print(f"wrote {path}")
        return 0
    sys.stdout.write("---\n".join(crd_texts().values()))
    return 0


def _settings() -> Settings:
    """The operator settings from GENAI_OPERATOR_* variables; bad values exit 2, each named with its fix."""
    try:
        return Settings.from_env()
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def cmd_run(args: argparse.Namespace) -> int:
    from genai_operator.controller.kopf_setup import run_operator

    return run_operator(
        _settings(),  # checked before anything connects
        namespaces=args.namespace,
        all_namespaces=args.all_namespaces or not args.namespace,
        metrics_port=args.metrics_port,
        standalone=args.standalone,
        kubeconfig=args.kubeconfig,
        verbose=args.verbose,
    )


def cmd_demo(args: argparse.Namespace) -> int:
    try:  # the emulator's kmock comes with the `demo` extra only: an operator install does not carry it
        import kmock  # noqa: F401
    except ImportError:
        hint = "pip install 'genai-operator[demo]' (as scripts/demo.sh does)"
        raise UsageError(f"the demo needs the emulator: {hint}") from None
    from genai_operator.cli.demo import run_demo

    return run_demo(
        examples=args.examples,
        nodes=args.nodes,
        pools=args.pools,
        timeout=args.timeout,
        show_objects=args.show_objects,
        out=sys.stdout,
    )


COMMANDS = {"run": cmd_run, "render": cmd_render, "plan": cmd_plan, "crd": cmd_crd, "demo": cmd_demo}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (ManifestError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return 0
