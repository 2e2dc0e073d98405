"""The real operator as a separate process (`python -m genai_operator run`), its memory and its counters.

A process of its own, so its RSS can be read from /proc and it never shares a GIL with the emulator.
"""

from __future__ import annotations

import atexit
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO

from genai_sandbox.process import cpu_seconds, free_port

_METRIC = re.compile(r"^(genai_operator_reconcile_total|genai_operator_workqueue_depth)(\{[^}]*\})? ([0-9.e+-]+)$")


def proc_status_bytes(pid: int, field: str) -> int:
    """VmRSS / VmHWM of a process in bytes (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return 0
    return 0


class OperatorProcess:
    """Start, sample and stop one operator process; `log` receives its output."""

    def __init__(self, kubeconfig: Path, log: IO[str], *, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "genai_operator",
                "run",
                "--kubeconfig",
                str(kubeconfig),
                "--standalone",
                "--all-namespaces",
                "--metrics-port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        atexit.register(self._kill_if_alive)  # never leave an orphan operator behind an aborted run
        self.peak_rss = 0
        self._stop_sampling = threading.Event()
        self._sampler = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        while not self._stop_sampling.wait(0.2):  # VmHWM holds the exact peak; this is a cross-check
            self.peak_rss = max(self.peak_rss, proc_status_bytes(self.proc.pid, "VmRSS"))

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def rss(self) -> int:
        return proc_status_bytes(self.proc.pid, "VmRSS")

    def high_water_mark(self) -> int:
        """The kernel's own peak (VmHWM) and the sampled one, whichever is higher."""
        return max(self.peak_rss, proc_status_bytes(self.proc.pid, "VmHWM"))

    def counters(self) -> tuple[float, float] | None:
        """(reconcile passes so far, work-queue depth) from /metrics; None until the endpoint answers."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as response:
                text = response.read().decode()
        except OSError:
            return None
        passes = depth = 0.0
        for line in text.splitlines():
            match = _METRIC.match(line)
            if match and match.group(1) == "genai_operator_reconcile_total":
                passes += float(match.group(3))
            elif match:
                depth = float(match.group(3))
        return passes, depth

    def _kill_if_alive(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM, as Kubernetes stops a pod; SIGKILL if it does not stop in time."""
        self._stop_sampling.set()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()
        return int(self.proc.returncode)
