"""Benchmark of the operator at scale: N ModelDeployments on the emulated cluster (or, with --cluster real, on a
real control plane: etcd, kube-apiserver, controller-manager, scheduler and kwok), against a floor.

For each size N: the time from creating N ModelDeployments to all Ready, against a plain script doing
the same writes through the same client (the floor, run with the same concurrency as the operator's
workers); API writes per ModelDeployment on creation and writes on a steady resync; the operator's
peak RSS and RSS per ModelDeployment; the time to start up over N existing ModelDeployments and
re-sync them all. Each size runs --repeat K trials (default 3), floor and operator interleaved; the
times are the medians of the trials and the ratio the median of the per-trial ratios, while writes and
memory are the worst trial's (bench/trials.py); start-up and resync are measured once, after the first
operator trial. Prints a table and the per-trial ratios, writes JSON (one object per size), and exits 1
only when a write bound is exceeded in any trial (more than children + 2 writes per new ModelDeployment,
or any write on resync).

    python bench/run.py --sizes 10,100,500 --repeat 3 --json results.json
    python bench/run.py --cluster real --sizes 100,500,1000 --repeat 1 --json real.json

On the real control plane, requests are counted from the apiserver's audit log, and the CPU of the apiserver,
etcd and the other components is reported next to the operator's (convergeBackendCpu, floorBackendCpu).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cluster_view
import report
import scenario
from genai_operator.controller.runtime import RunOptions


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None
    if not sizes or any(n < 1 for n in sizes):
        raise argparse.ArgumentTypeError("sizes must be positive integers")
    return sizes


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description=__doc__.split("\n\n")[0],
        epilog="Operator and floor logs go to --log-dir (default: a temporary directory, printed).",
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=[10, 100, 500],
        help="comma-separated numbers of ModelDeployments (default: 10,100,500)",
    )
    parser.add_argument(
        "--json",
        dest="json_path",
        type=Path,
        default=None,
        help="write the results here as a JSON list, one object per size",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=RunOptions().workers,
        help="the operator's reconcile workers, also the floor's threads (default: %(default)s)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="trials per size, floor and operator interleaved; times are the medians (default: %(default)s)",
    )
    parser.add_argument("--log-dir", type=Path, default=None, help="directory for the operator and floor logs")
    parser.add_argument(
        "--cluster",
        choices=["emulated", "real"],
        default="emulated",
        help="the in-process emulator (default) or a real control plane built from Go modules "
        "(scripts/control-plane/build.sh)",
    )
    return parser


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"python": platform.python_version(), "platform": platform.platform(), "cpu": cpu, "cpus": os.cpu_count()}


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _backend(kind: str, log_dir: Path) -> scenario.Backend:
    if kind == "emulated":
        return cluster_view.EmulatedBenchCluster
    import real_cluster  # the sandbox and its binaries only when asked for

    counter = iter(range(1_000_000))
    return lambda: real_cluster.RealBenchCluster(log_dir / f"cluster-{next(counter)}")


async def _run(sizes: list[int], workers: int, repeat: int, log_dir: Path, kind: str) -> list[dict[str, Any]]:
    results = []
    backend = _backend(kind, log_dir)
    for n in sizes:
        started = time.perf_counter()
        with (log_dir / f"n{n}.log").open("w") as log:
            result = await scenario.run_size(n, workers, log, repeat, _progress, backend)
        data = result.to_json()
        data["cluster"] = kind
        data["benchSeconds"] = round(time.perf_counter() - started, 1)
        results.append(data)
        print(f"N={n}: done in {data['benchSeconds']}s", file=sys.stderr, flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.workers < 1:
        print("bench/run.py: --workers must be at least 1", file=sys.stderr)
        return 2
    if args.repeat < 1:
        print("bench/run.py: --repeat must be at least 1", file=sys.stderr)
        return 2
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="genai-bench-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"logs in {log_dir}", file=sys.stderr)
    results = asyncio.run(_run(args.sizes, args.workers, args.repeat, log_dir, args.cluster))
    host = machine()
    for result in results:
        result["machine"] = host
    print(report.table(results))
    print(f"\n{host['cpus']} CPU(s) {host['cpu']}, Python {host['python']}, workers {args.workers}")
    print(
        f"trials: {args.repeat} per size, interleaved (times: medians; ratio: median of the trials' ratios; "
        "writes, memory: worst trial)"
    )
    for line in report.trial_ratios(results):
        print(line)
    for line in report.marginal_rss(results):
        print(f"memory: {line}")
    for note in report.target_notes(results):
        print(f"target missed: {note}")
    if args.json_path is not None:
        args.json_path.write_text(json.dumps(results, indent=2) + "\n")
    failures = report.bound_failures(results)
    for failure in failures:
        print(f"BOUND EXCEEDED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
