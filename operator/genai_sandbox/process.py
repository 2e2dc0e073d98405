"""One control-plane component as a child process: started with its log in a file, waited on until its health
endpoint answers, stopped with SIGTERM (then SIGKILL), its CPU time read from /proc.

A component that exits or never becomes healthy raises `SandboxError` with the tail of its log, never a hang.
"""

from __future__ import annotations

import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from genai_sandbox.errors import SandboxError

LOG_TAIL_LINES = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_port_free(port: int, component: str) -> None:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise SandboxError(
                f"{component}: port {port} on 127.0.0.1 is in use ({exc.strerror}); stop what holds it "
                f"(ss -ltnp 'sport = :{port}') or choose another port"
            ) from None


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def insecure_context() -> ssl.SSLContext:
    """For the health endpoints of the controller-manager and scheduler, which serve self-signed certificates."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def http_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2, context=context) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


@dataclass
class Component:
    name: str
    argv: list[str]
    log_path: Path
    health: Callable[[], bool]
    cwd: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            try:
                # A session of its own: a stopped test run's Ctrl-C does not reach it before our cleanup.
                self.process = subprocess.Popen(
                    self.argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.cwd, start_new_session=True
                )
            except OSError as exc:
                raise SandboxError(f"{self.name}: cannot start {self.argv[0]}: {exc.strerror}") from None

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise SandboxError(
                    f"{self.name} exited with code {self.process.returncode} while starting; "
                    f"last lines of {self.log_path}:\n{log_tail(self.log_path)}"
                )
            if self.health():
                return
            time.sleep(0.1)
        raise SandboxError(
            f"{self.name} did not become healthy within {timeout:.0f}s; last lines of {self.log_path}:\n"
            f"{log_tail(self.log_path)}"
        )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float = 10.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the process so far (0 when not running)."""
        return cpu_seconds(self.process.pid) if self.process is not None else 0.0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # Fields 14 and 15 of /proc/PID/stat (utime, stime), counted after the ")" that ends the command name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
