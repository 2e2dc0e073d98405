"""Benchmark of the model loader's cold start against the wire: a fake Hub whose CDN caps each connection (as real
CDNs do) serves a generated model in safetensors shards (bench/fake_hub.py), and in one run our loader
(`python -m genai_model_loader`, HF_ENDPOINT pointing at the fake) and huggingface_hub's `snapshot_download` fetch it
into a temporary directory, one after the other.

The limit is the slower of the server's total cap (measured: many connections read for a few seconds) and the
disk's write speed (measured: a large file written and fsynced). Prints a table; `--json` writes
`limitBytesPerSecond`, `loaderSeconds`, `referenceSeconds`, `ratioToLimit` (limit time / loader time, i.e. the
fraction of the limit the loader reached), `ratioToReference` (huggingface_hub's time / ours) and `bytes`, plus
extras (disk and server speeds, settings, CPU seconds, the loader's tail after the server's last byte).

    python bench/loader.py --size-gib 2 --json bench/results-loader.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from fake_hub import MIB, FakeHub, make_model

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = """
import sys
from huggingface_hub import snapshot_download
snapshot_download(sys.argv[1], local_dir=sys.argv[2], cache_dir=sys.argv[3])
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-gib", type=float, default=2.0, help="model size (default 2)")
    parser.add_argument("--shard-mib", type=int, default=512, help="safetensors shard size (default 512)")
    parser.add_argument("--per-connection-mib", type=float, default=25.0, help="CDN cap per connection, MiB/s")
    parser.add_argument("--total-mib", type=float, default=200.0, help="server total cap, MiB/s (0: none)")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="added to every request")
    parser.add_argument("--connections", type=int, default=8, help="LOADER_CONNECTIONS for our loader")
    parser.add_argument("--probe-seconds", type=float, default=3.0, help="how long the server's cap is measured")
    parser.add_argument("--dir", default=None, help="where to write (default: a temporary directory)")
    parser.add_argument("--json", dest="json_path", default=None, help="write the results here")
    args = parser.parse_args(argv)
    size = int(args.size_gib * 1024 * MIB)
    with tempfile.TemporaryDirectory(prefix="bench-loader-", dir=args.dir) as scratch:
        work = Path(scratch)
        disk = disk_write_speed(work, min(size, 1024 * MIB))
        started = time.monotonic()
        model = make_model(size, args.shard_mib * MIB)
        print(
            f"generated {len(model.files)} files, {model.weight_bytes / MIB:.0f} MiB, sha256 in "
            f"{time.monotonic() - started:.1f}s",
            flush=True,
        )
        total = args.total_mib * MIB if args.total_mib > 0 else None
        with FakeHub(model, args.per_connection_mib * MIB, total, args.latency_ms / 1000) as hub:
            server = server_speed(hub, model, seconds=args.probe_seconds)
            limit = min(server, disk)
            ours = run_ours(hub, work / "ours", args.connections)
            check(model, work / "ours")
            shutil.rmtree(work / "ours")
            reference = run_reference(hub, work / "reference")
            check(model, work / "reference")
    results = {
        "limitBytesPerSecond": round(limit),
        "loaderSeconds": round(ours["seconds"], 3),
        "referenceSeconds": round(reference["seconds"], 3),
        "ratioToLimit": round(model.weight_bytes / limit / ours["seconds"], 3),
        "ratioToReference": round(reference["seconds"] / ours["seconds"], 3),
        "bytes": model.weight_bytes,
        "diskBytesPerSecond": round(disk),
        "serverBytesPerSecond": round(server),
        "perConnectionBytesPerSecond": round(args.per_connection_mib * MIB),
        "totalCapBytesPerSecond": round(total) if total else None,
        "latencyMs": args.latency_ms,
        "files": len(model.files),
        "connections": args.connections,
        "loaderCpuSeconds": round(ours["cpu"], 2),
        "referenceCpuSeconds": round(reference["cpu"], 2),
        "loaderTailSeconds": round(ours["tail"], 3),
        "referenceTailSeconds": round(reference["tail"], 3),
        "sha256BytesPerSecond": round(sha256_speed()),
        "huggingfaceHubVersion": hub_version(),
    }
    print_table(results)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(results, indent=2) + "\n")
    return 0


def disk_write_speed(work: Path, size: int) -> float:
    """Bytes per second of writing `size` bytes and fsyncing them (what lands on the cache volume)."""
    block = os.urandom(8 * MIB)
    path = work / "disk-probe"
    started = time.monotonic()
    with path.open("wb") as out:
        for _ in range(max(1, size // len(block))):
            out.write(block)
        out.flush()
        os.fsync(out.fileno())
    seconds = time.monotonic() - started
    written = path.stat().st_size
    path.unlink()
    return written / seconds


def server_speed(hub: FakeHub, model: Any, streams: int = 16, seconds: float = 3.0) -> float:
    """What the server delivers at most: many connections reading to nowhere for a few seconds."""
    shard = next(f for f in model.files.values() if f.shard is not None)
    url = f"{hub.url.replace('127.0.0.1', 'localhost')}/cdn/{shard.sha256}/{shard.path}"
    deadline = time.monotonic() + seconds
    counts = [0] * streams

    def read(index: int) -> None:
        while time.monotonic() < deadline:
            with urllib.request.urlopen(url, timeout=60) as response:
                while time.monotonic() < deadline and (chunk := response.read(MIB)):
                    counts[index] += len(chunk)

    threads = [threading.Thread(target=read, args=(i,)) for i in range(streams)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.monotonic() - started)


def run_ours(hub: FakeHub, dest: Path, connections: int) -> dict[str, float]:
    plan = json.dumps([{"name": "model", "uri": f"hf://{hub.model.repo}", "dest": str(dest)}])
    env = {
        **os.environ,
        "HF_ENDPOINT": hub.url,
        "LOADER_CONNECTIONS": str(connections),
        "PYTHONPATH": str(ROOT / "loader"),
    }
    command = [
        sys.executable,
        "-m",
        "genai_model_loader",
        "--plan",
        plan,
        "--termination-log",
        str(dest.parent / "termination.log"),
    ]
    return timed(hub, command, env, "our loader")


def run_reference(hub: FakeHub, dest: Path) -> dict[str, float]:
    env = {
        **os.environ,
        "HF_ENDPOINT": hub.url,
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_HOME": str(dest.parent / "hf-home"),
    }
    command = [sys.executable, "-c", REFERENCE, hub.model.repo, str(dest), str(dest.parent / "hf-cache")]
    return timed(hub, command, env, "huggingface_hub")


def timed(hub: FakeHub, command: list[str], env: dict[str, str], what: str) -> dict[str, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    ended = time.monotonic()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{what} failed ({done.returncode}):\n{done.stderr[-4000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    print(f"{what}: {ended - started:.2f}s, {cpu:.1f} CPU s", flush=True)
    return {"seconds": ended - started, "cpu": cpu, "tail": ended - hub.last_byte}


def check(model: Any, dest: Path) -> None:
    """Every file arrived with its size (the shards' sha256 our loader checks itself; sizes suffice for both)."""
    for file in model.files.values():
        path = dest / file.path
        if not path.is_file() or path.stat().st_size != file.size:
            raise SystemExit(f"{dest.name}: {file.path} missing or of the wrong size")


def sha256_speed() -> float:
    data = os.urandom(64 * MIB)
    started = time.perf_counter()
    hashlib.sha256(data).digest()
    return len(data) / (time.perf_counter() - started)


def hub_version() -> str | None:
    try:
        from huggingface_hub import __version__
    except ImportError:
        return None
    return str(__version__)


def print_table(results: dict[str, Any]) -> None:
    mib = results["bytes"] / MIB
    rows = [
        (
            "limit (min of server total, disk)",
            f"{results['limitBytesPerSecond'] / MIB:.0f} MiB/s",
            f"{mib / (results['limitBytesPerSecond'] / MIB):.1f}s",
        ),
        ("our loader", f"{mib / results['loaderSeconds']:.0f} MiB/s", f"{results['loaderSeconds']:.1f}s"),
        (
            f"huggingface_hub {results['huggingfaceHubVersion']}",
            f"{mib / results['referenceSeconds']:.0f} MiB/s",
            f"{results['referenceSeconds']:.1f}s",
        ),
    ]
    print(
        f"\n{mib:.0f} MiB in {results['files']} files; per connection "
        f"{results['perConnectionBytesPerSecond'] / MIB:.0f} MiB/s, disk {results['diskBytesPerSecond'] / MIB:.0f} "
        f"MiB/s, server {results['serverBytesPerSecond'] / MIB:.0f} MiB/s"
    )
    for name, rate, seconds in rows:
        print(f"  {name:<40} {rate:>12} {seconds:>8}")
    print(f"  ratio to limit {results['ratioToLimit']:.2f}, to huggingface_hub {results['ratioToReference']:.2f}")


if __name__ == "__main__":
    sys.exit(main())
