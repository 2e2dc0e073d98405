"""A local stand-in for the Hugging Face Hub and its CDN, for bench/loader.py: the API endpoints our loader and
huggingface_hub call (`/api/models/{repo}/revision/{rev}`, `/api/models/{repo}/tree/{rev}?recursive=...`,
HEAD and GET `/{repo}/resolve/{rev}/{file}` with `X-Repo-Commit`, `ETag`, `X-Linked-Etag`, `X-Linked-Size`, LFS files
redirected to a CDN path on another host name), and a CDN that caps each connection's bandwidth (a token bucket per
connection), adds a latency to every request and optionally caps the total, as real CDNs do.

The model is generated, never stored: safetensors shards whose bytes are a function of a seed (a random 1 MiB block
with the shard and MiB index written over its first 16 bytes, so no two MiB are alike and a part served at the wrong
offset fails the checksum). Their sha256 is computed once at start-up by streaming them through hashlib.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

MIB = 1 << 20
SEND = 128 * 1024  # bytes per paced write: small enough for a smooth rate, large enough to cost little CPU


class Pacer:
    """A token bucket as virtual time: each send reserves its share of the rate and sleeps until it is due; a burst
    of `burst` bytes may go at once. Shared by threads when it is the total cap."""

    def __init__(self, rate: float, burst: int = 256 * 1024) -> None:
        self.rate, self.burst = rate, burst
        self.due = 0.0
        self.lock = threading.Lock()

    def take(self, size: int) -> None:
        with self.lock:
            now = time.monotonic()
            self.due = max(self.due, now - self.burst / self.rate) + size / self.rate
            wait = self.due - now
        if wait > 0:
            time.sleep(wait)


@dataclass
class RepoFile:
    path: str
    size: int
    shard: int | None = None  # generated weights; None: `content` holds the bytes
    content: bytes = b""
    header: bytes = b""  # a shard's safetensors header, before the generated tensor bytes
    sha256: str = ""
    blob_sha1: str = ""


@dataclass
class Model:
    repo: str
    files: dict[str, RepoFile]
    block: bytes
    sha: str = field(default_factory=lambda: hashlib.sha1(b"bench").hexdigest())

    @property
    def weight_bytes(self) -> int:
        return sum(f.size for f in self.files.values())

    def read(self, file: RepoFile, start: int, end: int) -> Iterator[bytes]:
        """The bytes [start, end) of a file, generated in pieces of at most 1 MiB."""
        if file.shard is None:
            yield file.content[start:end]
            return
        position = start
        while position < end:
            if position < len(file.header):
                piece = file.header[position:end]
            else:
                index, offset = divmod(position - len(file.header), MIB)
                mib = struct.pack("<QQ", file.shard, index) + self.block[16:]
                piece = mib[offset : offset + end - position]
            yield piece
            position += len(piece)


def make_model(total_bytes: int, shard_bytes: int, seed: int = 20) -> Model:
    block = random.Random(seed).randbytes(MIB)
    count = max(1, -(-total_bytes // shard_bytes))
    files: dict[str, RepoFile] = {}
    for index in range(count):
        tensor = min(shard_bytes, total_bytes - index * shard_bytes)
        name = f"model-{index + 1:05d}-of-{count:05d}.safetensors"
        meta = json.dumps({f"layers.{index}.weight": {"dtype": "U8", "shape": [tensor], "data_offsets": [0, tensor]}})
        meta += " " * (-len(meta) % 8)
        header = struct.pack("<Q", len(meta)) + meta.encode()
        files[name] = RepoFile(name, len(header) + tensor, shard=index + 1, header=header)
    index_json = {
        "metadata": {"total_size": total_bytes},
        "weight_map": {f"layers.{i}.weight": name for i, name in enumerate(files)},
    }
    for name, data in {
        "config.json": {"model_type": "llama", "torch_dtype": "uint8"},
        "model.safetensors.index.json": index_json,
        "tokenizer.json": {"version": "1.0", "model": {"type": "BPE", "vocab": {}}},
    }.items():
        content = json.dumps(data, indent=1).encode()
        files[name] = RepoFile(name, len(content), content=content)
    model = Model("bench/model", files, block)
    for file in files.values():
        digest = hashlib.sha256()
        for piece in model.read(file, 0, file.size):
            digest.update(piece)
        file.sha256 = digest.hexdigest()
        if file.shard is None:
            file.blob_sha1 = hashlib.sha1(b"blob %d\0" % file.size + file.content).hexdigest()
    return model


class FakeHub(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, model: Model, per_connection: float, total: float | None, latency: float) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.model, self.per_connection, self.latency = model, per_connection, latency
        self.total = Pacer(total) if total else None
        self.stats_lock = threading.Lock()
        self.sent = 0
        self.last_byte = 0.0
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up mid-body (the speed probe, a cancelled part) is no server failure

    def __enter__(self) -> FakeHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the Hub and CDNs answer (huggingface_hub reuses connections)
    server: FakeHub

    def setup(self) -> None:
        super().setup()
        self.pacer = Pacer(self.server.per_connection)  # one bucket per connection, as a CDN caps each stream

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self._route(body=False)

    def do_GET(self) -> None:
        self._route(body=True)

    def _route(self, body: bool) -> None:
        time.sleep(self.server.latency)
        model, parts = self.server.model, urlsplit(self.path)
        path = unquote(parts.path)
        api = re.fullmatch(rf"/api/models/{model.repo}/(revision|tree)/[^/]+(/.*)?", path)
        resolve = re.fullmatch(rf"/{model.repo}/resolve/[^/]+/(.+)", path)
        cdn = re.fullmatch(r"/cdn/[0-9a-f]+/(.+)", path)
        if api and api.group(1) == "revision":
            siblings = [{"rfilename": name} for name in model.files]
            self._json(
                {
                    "id": model.repo,
                    "modelId": model.repo,
                    "sha": model.sha,
                    "siblings": siblings,
                    "private": False,
                    "lastModified": "2026-01-01T00:00:00.000Z",
                },
                body,
            )
        elif api:
            self._json([_entry(f) for f in model.files.values()], body)
        elif resolve and resolve.group(1) in model.files:
            file = model.files[resolve.group(1)]
            headers = {"X-Repo-Commit": model.sha, "ETag": f'"{file.blob_sha1 or file.sha256}"'}
            if file.shard is None:
                self._body(file, headers, body)
            else:  # to the CDN on another host name: credentials must not follow
                location = f"http://localhost:{self.server.server_address[1]}/cdn/{file.sha256}/{file.path}"
                self._send(
                    302,
                    b"",
                    headers
                    | {"Location": location, "X-Linked-Etag": f'"{file.sha256}"', "X-Linked-Size": str(file.size)},
                )
        elif cdn and cdn.group(1) in model.files:
            self._body(model.files[cdn.group(1)], {"ETag": f'"{model.files[cdn.group(1)].sha256}"'}, body)
        else:
            self._send(404, b'{"error": "not found"}', {"X-Error-Code": "EntryNotFound"})

    def _json(self, data: Any, body: bool) -> None:
        encoded = json.dumps(data).encode()
        self._send(200, encoded if body else b"", {"Content-Type": "application/json"}, len(encoded))

    def _send(self, status: int, data: bytes, headers: dict[str, str], length: int | None = None) -> None:
        self.send_response(status)
        for name, value in (headers | {"Content-Length": str(len(data) if length is None else length)}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self, file: RepoFile, headers: dict[str, str], body: bool) -> None:
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        start = int(match.group(1)) if match else 0
        end = min(int(match.group(2)) + 1, file.size) if match and match.group(2) else file.size
        if match and start >= file.size:
            self._send(416, b"", {"Content-Range": f"bytes */{file.size}"})
            return
        self.send_response(206 if match else 200)
        if match:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{file.size}")
        for name, value in (headers | {"Content-Length": str(end - start), "Accept-Ranges": "bytes"}).items():
            self.send_header(name, value)
        self.end_headers()
        if not body:
            return
        for piece in self.server.model.read(file, start, end):
            view = memoryview(piece)
            while view:
                send, view = view[:SEND], view[SEND:]
                self.pacer.take(len(send))
                if self.server.total:
                    self.server.total.take(len(send))
                self.wfile.write(send)
                with self.server.stats_lock:
                    self.server.sent += len(send)
                    self.server.last_byte = time.monotonic()


def _entry(file: RepoFile) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": "file",
        "path": file.path,
        "size": file.size,
        "oid": file.blob_sha1 or hashlib.sha1(file.sha256.encode()).hexdigest(),
    }
    if file.shard is not None:
        entry["lfs"] = {"oid": file.sha256, "size": file.size, "pointerSize": 134}
    return entry
