"""One benchmark size: K trials of the floor and the operator creating N ModelDeployments, then one restart.

The trials are interleaved (floor, operator, floor, operator, ...) so that a slow period of the machine
hits both sides; the restart and resync (start-up over N existing ModelDeployments, one periodic resync)
follow the first operator trial only. bench/trials.py combines the trials (medians of the times, the
worst trial for writes and memory). Each phase gets a fresh emulated cluster (same nodes, pools and
manifests), served from this process's event loop; the floor script and the operator are separate
processes, so neither shares a GIL with the emulator. Clocks start just before the ModelDeployments are
created (in-process, in one burst).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import cluster_view as view
import trials
import workload
from genai_operator.controller.runtime import RunOptions
from operator_process import OperatorProcess, cpu_seconds

BENCH = Path(__file__).resolve().parent
RESYNC_SECONDS = 5.0  # the restarted operator's resync interval, so one steady resync fits the window
SETTLE_SECONDS = RunOptions().capacity_debounce_seconds + 1.0


def poll_interval(n: int) -> float:
    """How often readiness is checked, which is the resolution of both times: 10 ms at N=10 (0.1 s made the
    operator's 0.15 s read as 0.2 against a 0.1 s floor), up to 0.1 s at N=500, so the scans of all N
    objects cost the emulator about the same share at every size."""
    return min(0.1, max(0.01, n / 5000))


def _timeout(n: int) -> float:
    return 60.0 + 1.0 * n


Backend = Callable[[], view.BenchCluster]


def _cpu(cluster: view.BenchCluster, before: dict[str, float]) -> dict[str, float]:
    return {name: round(seconds - before.get(name, 0.0), 2) for name, seconds in cluster.backend_cpu().items()}


async def run_floor(n: int, workers: int, log: IO[str], backend: Backend) -> dict[str, Any]:
    manifests = workload.model_deployments(n)
    async with backend() as cluster:
        cluster.install(workload.nodes_for(n), workload.pools())
        cluster.prepare(manifests)
        proc = subprocess.Popen(
            [
                sys.executable,
                str(BENCH / "floor.py"),
                "--kubeconfig",
                str(cluster.floor_kubeconfig_path),
                "--workers",
                str(workers),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        try:
            if (await asyncio.to_thread(proc.stdout.readline)).strip() != "ready":
                raise RuntimeError("the floor script did not start; see the log")
            cluster.clear_requests()
            cpu_before = cluster.backend_cpu()
            started = time.perf_counter()
            cluster.create_all(manifests)
            proc.stdin.write("go\n")
            proc.stdin.flush()
            stdout = proc.stdout

            async def read_done() -> tuple[str, float]:
                line = await asyncio.to_thread(stdout.readline)
                return line, time.perf_counter()

            done = asyncio.create_task(read_done())
            ready_at = await view.until(
                lambda: cluster.ready_deployments() >= n, _timeout(n), "floor ready", interval=poll_interval(n)
            )
            line, done_at = await done
            floor_cpu = cpu_seconds(proc.pid)
            backend_cpu = _cpu(cluster, cpu_before)
            if not line.startswith("done"):
                raise RuntimeError(f"the floor script failed: {line!r}; see the log")
            finished = max(ready_at, done_at)  # the last Deployment ready and the last status written
            writes = view.writes(cluster)
            status_writes = sum(1 for r in writes if r.subresource == "status")
            return {
                "seconds": finished - started,
                "children": (len(writes) - status_writes) / n,
                "writesPerObject": len(writes) / n,
                "cpuSeconds": round(floor_cpu, 2),
                "emulatorCpuSeconds": round(sum(backend_cpu.values()), 2),
                "backendCpu": backend_cpu,
            }
        finally:
            try:
                await asyncio.to_thread(proc.wait, 30)
            finally:
                if proc.poll() is None:
                    proc.kill()


async def run_operator(n: int, workers: int, log: IO[str], backend: Backend, *, restart: bool = True) -> dict[str, Any]:
    """Converge N new ModelDeployments; with `restart`, then start a new operator over them (`_restart`)."""
    manifests = workload.model_deployments(n)
    env = {"GENAI_OPERATOR_WORKERS": str(workers)}
    out: dict[str, Any] = {}
    async with backend() as cluster:
        cluster.install(workload.nodes_for(n), workload.pools())
        cluster.prepare([workload.warm_up(), *manifests])
        operator = OperatorProcess(cluster.kubeconfig_path, log, env=env)
        try:
            await view.until(lambda: view.watching(cluster) or _dead(operator), 60, "operator watching")
            _dead(operator, fail=True)
            # One ModelDeployment first, so one-time costs (lazy imports, the first plan, thread pools,
            # connection pools) count in the baseline rather than "per object".
            cluster.create_all([workload.warm_up()])
            await view.until(lambda: cluster.ready_model_deployments() >= 1 or _dead(operator), 60, "warm-up")
            _dead(operator, fail=True)
            await view.settle(cluster)
            baseline, cpu_before = operator.rss(), operator.cpu()
            passes_before = (await asyncio.to_thread(operator.counters) or (0.0, 0.0))[0]
            cluster.clear_requests()
            backend_before = cluster.backend_cpu()
            started = time.perf_counter()
            cluster.create_all(manifests)
            ready_at = await view.until(
                lambda: cluster.ready_model_deployments() > n or _dead(operator),
                _timeout(n),
                "operator: all Ready",
                interval=poll_interval(n),
            )
            _dead(operator, fail=True)
            out["convergeSeconds"] = ready_at - started
            out["convergeCpuSeconds"] = round(operator.cpu() - cpu_before, 2)
            backend_cpu = _cpu(cluster, backend_before)
            out["convergeEmulatorCpuSeconds"] = round(sum(backend_cpu.values()), 2)
            out["convergeBackendCpu"] = backend_cpu
            # Quiet for longer than the operator's capacity debounce: PlacementPool status follows the last pod
            # changes that long after them, and a status left unwritten here would be written after the restart
            # (counted as a resync write).
            await view.settle(cluster, quiet=SETTLE_SECONDS)
            passes = (await asyncio.to_thread(operator.counters) or (0.0, 0.0))[0] - passes_before
            out["createReconcilesPerObject"] = round(passes / n, 2)
            writes = view.writes(cluster)
            # Per ModelDeployment: writes into the namespaces (the objects and their children). Cluster-scoped
            # writes (PlacementPool status, which follows capacity, not N) are reported on their own.
            out["createWrites"] = sum(1 for r in writes if r.namespace)
            out["createWritesByVerb"] = dict(view.by_verb(writes))
            out["createClusterWrites"] = sum(1 for r in writes if not r.namespace)
            out["createEvents"] = view.events_posted(cluster)
            out["createRequestsByVerb"] = dict(view.by_verb(cluster.requests()))
            out["baselineRssBytes"] = baseline
            out["createPeakRssBytes"] = operator.high_water_mark()
            out["settledRssBytes"] = operator.rss()
        finally:
            code = await asyncio.to_thread(operator.stop)
        if code != 0:
            raise RuntimeError(f"the operator exited with {code}; see the log")
        if restart:
            out.update(await _restart(cluster, n, log, env))
    return out


def _dead(operator: OperatorProcess, *, fail: bool = False) -> bool:
    if operator.alive():
        return False
    if fail:
        raise RuntimeError(f"the operator exited with {operator.proc.returncode}; see the log")
    return True


async def _restart(cluster: view.BenchCluster, n: int, log: IO[str], env: dict[str, str]) -> dict[str, Any]:
    """A new operator process over N converged ModelDeployments: start-up, then one periodic resync."""
    out: dict[str, Any] = {}
    cluster.clear_requests()
    operator = OperatorProcess(
        cluster.kubeconfig_path, log, env={**env, "GENAI_OPERATOR_RESYNC_SECONDS": str(RESYNC_SECONDS)}
    )
    try:
        counters: dict[str, tuple[float, float] | None] = {"now": None}

        async def poll() -> bool:
            _dead(operator, fail=True)
            counters["now"] = await asyncio.to_thread(operator.counters)
            now = counters["now"]
            return now is not None and now[0] > n and now[1] == 0  # N and the warm-up object

        await _until_async(poll, _timeout(n), "restart: all re-synced")
        out["startupSeconds"] = time.perf_counter() - operator.started
        await view.settle(cluster)
        out["startupWrites"] = len(view.writes(cluster))
        out["startupWritesByVerb"] = dict(view.by_verb(view.writes(cluster)))
        out["startupEvents"] = view.events_posted(cluster)
        out["startupRequestsByVerb"] = dict(view.by_verb(cluster.requests()))
        # A steady resync: a window of two resync intervals, then until the queue is drained.
        cluster.clear_requests()
        before = counters["now"][0] if counters["now"] else 0.0
        await asyncio.sleep(2 * RESYNC_SECONDS)

        async def drained() -> bool:
            now = await asyncio.to_thread(operator.counters)
            return now is not None and now[0] - before >= n and now[1] == 0

        await _until_async(drained, _timeout(n), "periodic resync")
        after = await asyncio.to_thread(operator.counters)
        out["periodicResyncPasses"] = int((after[0] if after else before) - before)
        out["periodicResyncWrites"] = len(view.writes(cluster))
        out["periodicResyncWritesByVerb"] = dict(view.by_verb(view.writes(cluster)))
        out["periodicResyncRequestsByVerb"] = dict(view.by_verb(cluster.requests()))
        out["startupPeakRssBytes"] = operator.high_water_mark()
    finally:
        code = await asyncio.to_thread(operator.stop)
    if code != 0:
        raise RuntimeError(f"the restarted operator exited with {code}; see the log")
    return out


async def _until_async(check: Any, timeout: float, what: str) -> None:
    deadline = time.perf_counter() + timeout
    while not await check():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f}s")
        await asyncio.sleep(0.2)


async def run_size(
    n: int,
    workers: int,
    log: IO[str],
    repeat: int = 1,
    progress: Callable[[str], None] | None = None,
    backend: Backend = view.EmulatedBenchCluster,
) -> trials.Result:
    """`repeat` trials, interleaved; the restart after the first operator trial only. See bench/trials.py."""
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, not {repeat}")
    floors: list[dict[str, Any]] = []
    ops: list[dict[str, Any]] = []
    for trial in range(1, repeat + 1):
        log.write(f"\n=== N={n} trial {trial}/{repeat}: floor\n")
        log.flush()
        floors.append(await run_floor(n, workers, log, backend))
        log.write(f"\n=== N={n} trial {trial}/{repeat}: operator{' and restart' if trial == 1 else ''}\n")
        log.flush()
        ops.append(await run_operator(n, workers, log, backend, restart=trial == 1))
        if progress is not None:
            ratio = ops[-1]["convergeSeconds"] / floors[-1]["seconds"]
            progress(
                f"N={n} trial {trial}/{repeat}: floor {floors[-1]['seconds']:.2f}s, "
                f"operator {ops[-1]['convergeSeconds']:.2f}s, ratio {ratio:.2f}"
            )
    return trials.combine(n, workers, floors, ops)
