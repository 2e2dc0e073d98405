"""Test support for the model loader tests (no tests of its own): a local HTTP server that serves files and
emulates the Hugging Face Hub, S3 and an OCI registry (distribution spec v2 with its token service) as far as the
loader uses them, records every request, verifies SigV4 signatures with its own implementation, and misbehaves on
demand (cut connections, wrong bytes, wrong sizes, error statuses); plus a helper that runs the loader's CLI
in-process against it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import redirect_stderr
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from xml.sax.saxutils import escape

from genai_model_loader.cli import main
from genai_model_loader.retry import RetryPolicy

LFS_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth", ".onnx", ".h5", ".msgpack")


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str  # decoded path
    raw_path: str  # as sent, with the query
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names


@dataclass
class Canned:
    """A response to send instead of the real one, `times` times, to requests whose path contains `match` (after
    letting the first `skip` of them through)."""

    match: str
    status: int
    times: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    skip: int = 0


class FakeRemote:
    """The Hub (api/models/.../tree|revision, resolve/ with a redirect to another host for LFS files) and S3
    (path-style ListObjectsV2 and GET) on 127.0.0.1, all in one server."""

    def __init__(self) -> None:
        self.repos: dict[str, dict[str, dict[str, bytes]]] = {}  # repo -> revision -> path -> content
        self.shas: dict[tuple[str, str], str] = {}
        self.buckets: dict[str, dict[str, bytes]] = {}
        self.multipart: set[str] = set()  # S3 keys whose ETag is a multipart one
        self.requests: list[Seen] = []
        self.canned: list[Canned] = []
        self.cut_first_response: dict[str, int] = {}  # file path -> bytes after which its first body is cut
        self.corrupt: set[str] = set()  # file paths served with wrong bytes of the right size
        self.size_lies: dict[str, int] = {}  # file path -> what the listing adds to its size
        self.ignore_range = False
        self.corrupt_spans: dict[str, tuple[int, int]] = {}  # file path -> [start, end) served with wrong bytes
        self.streaming = 0  # bodies being sent right now, and the most at once (connections a client opened)
        self.max_streaming = 0
        self.tree_page_size: int | None = None
        self.list_page_size = 1000
        self.body_delay = 0.0
        self.s3_keys: dict[str, str] = {}  # access key -> secret; empty: anonymous access
        # The registry: /v2/<repo>/manifests|blobs/<reference>, tokens from /token, blobs redirected to /registry-cdn/.
        self.blobs: dict[str, bytes] = {}  # digest -> content
        self.manifests: dict[tuple[str, str], tuple[str, bytes]] = {}  # (repository, tag or digest) -> (type, body)
        self.registry_auth: str | None = None  # None: anyone pulls; "bearer": tokens from /token; "basic"
        self.registry_users: dict[str, str] = {}  # user -> password
        self.public_repos: set[str] = set()  # what an anonymous token may pull
        self.tokens: dict[str, tuple[str | None, str]] = {}  # issued token -> (user, scope)
        self.token_key = "token"  # the field the token service answers with ("access_token" is the OAuth2 name)
        self.blob_redirect = False
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.fake = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # -- set-up --------------------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add_repo(self, repo: str, files: dict[str, bytes], revision: str = "main", sha: str | None = None) -> str:
        self.repos.setdefault(repo, {})[revision] = files
        sha = sha or hashlib.sha1(f"{repo}@{revision}".encode()).hexdigest()
        self.shas[(repo, revision)] = sha
        return sha

    def add_bucket(self, bucket: str, objects: dict[str, bytes]) -> None:
        self.buckets[bucket] = objects

    def add_blob(self, content: bytes) -> str:
        digest = f"sha256:{hashlib.sha256(content).hexdigest()}"
        self.blobs[digest] = content
        return digest

    def add_manifest(self, repository: str, manifest: dict[str, Any], *tags: str) -> str:
        """Served by its digest and by each tag, with its mediaType as Content-Type; returns the digest."""
        body = json.dumps(manifest, indent=1).encode()
        digest = f"sha256:{hashlib.sha256(body).hexdigest()}"
        media = str(manifest.get("mediaType", "application/vnd.oci.image.manifest.v1+json"))
        for reference in (digest, *tags):
            self.manifests[(repository, reference)] = (media, body)
        return digest

    def revoke_tokens(self) -> None:
        """As tokens expiring mid-fetch: the next request is challenged again."""
        with self.lock:
            self.tokens.clear()

    def respond(
        self,
        match: str,
        status: int,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        skip: int = 0,
    ) -> None:
        self.canned.append(Canned(match, status, times, headers or {}, body, skip))

    def __enter__(self) -> FakeRemote:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- what happened -------------------------------------------------------------------------------------
    def seen(self, contains: str = "") -> list[Seen]:
        with self.lock:
            return [r for r in self.requests if contains in r.path]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()

    # -- the Hub -------------------------------------------------------------------------------------------
    def repo_files(self, repo: str, revision: str) -> dict[str, bytes] | None:
        revisions = self.repos.get(repo, {})
        if revision in revisions:
            return revisions[revision]
        for (name, rev), sha in self.shas.items():
            if name == repo and sha == revision:
                return revisions.get(rev)
        return None

    def tree_entries(self, files: dict[str, bytes]) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        directories = sorted({str(Path(p).parent) for p in files if "/" in p})
        entries += [{"type": "directory", "oid": "0" * 40, "size": 0, "path": d} for d in directories]
        for path, content in sorted(files.items()):
            size = len(content) + self.size_lies.get(path, 0)
            blob_id = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()  # what `git hash-object` says
            entry: dict[str, Any] = {"type": "file", "oid": blob_id, "size": size, "path": path}
            if path.endswith(LFS_SUFFIXES):
                entry["lfs"] = {"oid": hashlib.sha256(content).hexdigest(), "size": size, "pointerSize": 134}
            entries.append(entry)
        return entries


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    @property
    def fake(self) -> FakeRemote:
        return self.server.fake  # type: ignore[attr-defined, no-any-return]

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        seen = Seen(
            "GET",
            unquote(parts.path),
            self.path,
            dict(parse_qsl(parts.query, keep_blank_values=True)),
            {k.lower(): v for k, v in self.headers.items()},
        )
        with self.fake.lock:
            self.fake.requests.append(seen)
            canned = next((c for c in self.fake.canned if c.match in seen.path and c.times > 0), None)
            if canned and canned.skip:
                canned.skip -= 1
                canned = None
            elif canned:
                canned.times -= 1
        if canned:
            self._send(canned.status, canned.body, canned.headers)
            return
        segments = seen.path.strip("/").split("/")
        if segments[0] in self.fake.buckets:
            self._s3(seen, segments[0], "/".join(segments[1:]))
        elif seen.path.startswith("/api/models/"):
            self._hub_api(seen, segments[2:])
        elif len(segments) >= 4 and segments[2] == "resolve":
            self._hub_resolve(seen, "/".join(segments[:2]), segments[3], "/".join(segments[4:]))
        elif segments[0] == "v2":
            self._registry(seen, segments[1:])
        elif seen.path == "/token":
            self._token(seen)
        elif segments[0] == "registry-cdn" and segments[-1] in self.fake.blobs:
            self._serve(seen, segments[-1], self.fake.blobs[segments[-1]])
        elif segments[0] == "cdn":
            files = self.fake.repo_files("/".join(segments[1:3]), segments[3]) or {}
            path = "/".join(segments[4:])
            if path in files:
                self._serve(seen, path, files[path])
            else:
                self._send(404, b"no such blob")
        else:
            self._send(404, b"unknown route")

    # -- the Hub -------------------------------------------------------------------------------------------
    def _hub_api(self, seen: Seen, rest: list[str]) -> None:
        if len(rest) < 4 or rest[2] not in ("tree", "revision"):
            self._send(404, b"{}")
            return
        repo, revision = "/".join(rest[:2]), "/".join(rest[3:])
        files = self.fake.repo_files(repo, revision)
        if files is None:
            code = "RepoNotFound" if repo not in self.fake.repos else "RevisionNotFound"
            self._send(404, json.dumps({"error": code}).encode(), {"X-Error-Code": code})
            return
        if rest[2] == "revision":
            sha = self.fake.shas.get((repo, revision), revision)
            self._send(200, json.dumps({"id": repo, "sha": sha}).encode(), {"Content-Type": "application/json"})
            return
        entries = self.fake.tree_entries(files) if seen.query.get("recursive") == "true" else []
        start = int(seen.query.get("cursor", "0"))
        size = self.fake.tree_page_size or len(entries) or 1
        headers = {"Content-Type": "application/json"}
        if start + size < len(entries):
            headers["Link"] = (
                f'<{self.fake.url}{urlsplit(self.path).path}?recursive=true&cursor={start + size}>; rel="next"'
            )
        self._send(200, json.dumps(entries[start : start + size]).encode(), headers)

    def _hub_resolve(self, seen: Seen, repo: str, revision: str, path: str) -> None:
        files = self.fake.repo_files(repo, revision)
        if files is None or path not in files:
            self._send(404, b"{}", {"X-Error-Code": "EntryNotFound" if files is not None else "RepoNotFound"})
        elif path.endswith(LFS_SUFFIXES):
            # Another host (localhost, not 127.0.0.1), as the Hub's CDN: the token must not follow.
            port = self.server.server_address[1]
            self._send(302, b"", {"Location": f"http://localhost:{port}/cdn/{repo}/{revision}/{quote(path)}"})
        else:
            self._serve(seen, path, files[path])

    # -- S3 ------------------------------------------------------------------------------------------------
    def _s3(self, seen: Seen, bucket: str, key: str) -> None:
        if self.fake.s3_keys:
            problem = check_sigv4(seen, self.fake.s3_keys)
            if problem:
                self._send(403, f"<Error><Code>{problem}</Code></Error>".encode())
                return
        objects = self.fake.buckets[bucket]
        if not key and seen.query.get("list-type") == "2":
            self._send(200, self._listing(bucket, objects, seen.query).encode(), {"Content-Type": "application/xml"})
        elif key in objects:
            self._serve(seen, key, objects[key], {"ETag": f'"{etag(key, objects[key], self.fake.multipart)}"'})
        else:
            self._send(404, b"<Error><Code>NoSuchKey</Code></Error>")

    def _listing(self, bucket: str, objects: dict[str, bytes], query: dict[str, str]) -> str:
        prefix = query.get("prefix", "")
        keys = sorted(k for k in objects if k.startswith(prefix))
        token = query.get("continuation-token")
        if token:
            after = base64.b64decode(token).removesuffix(b"\xfb\xff").decode().removeprefix("after:")
            keys = [k for k in keys if k > after]
        page, more = keys[: self.fake.list_page_size], len(keys) > self.fake.list_page_size
        contents = "".join(
            f"<Contents><Key>{escape(k)}</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>"
            f"<ETag>&quot;{etag(k, objects[k], self.fake.multipart)}&quot;</ETag>"
            f"<Size>{len(objects[k]) + self.fake.size_lies.get(k, 0)}</Size><StorageClass>STANDARD</StorageClass>"
            "</Contents>"
            for k in page
        )
        following = ""
        if more:
            # Base64 with + / = in it, as real tokens have: the loader must encode (and sign) it right.
            next_token = base64.b64encode(f"after:{page[-1]}".encode() + b"\xfb\xff").decode()
            following = f"<NextContinuationToken>{escape(next_token)}</NextContinuationToken>"
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult '
            'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            f"<Name>{bucket}</Name><Prefix>{escape(prefix)}</Prefix><KeyCount>{len(page)}</KeyCount>"
            f"<MaxKeys>{self.fake.list_page_size}</MaxKeys><IsTruncated>{str(more).lower()}</IsTruncated>"
            f"{contents}{following}</ListBucketResult>"
        )

    # -- an OCI registry -----------------------------------------------------------------------------------
    def _registry(self, seen: Seen, rest: list[str]) -> None:
        if len(rest) < 3 or rest[-2] not in ("manifests", "blobs"):
            self._send(404, registry_error("NAME_UNKNOWN"))
            return
        repository, kind, reference = "/".join(rest[:-2]), rest[-2], rest[-1]
        if not self._registry_allows(seen, repository):
            return
        if kind == "blobs":
            if reference not in self.fake.blobs:
                self._send(404, registry_error("BLOB_UNKNOWN"))
            elif self.fake.blob_redirect:
                # Another host (localhost, not 127.0.0.1), as a registry's storage: Authorization must not follow.
                port = self.server.server_address[1]
                self._send(307, b"", {"Location": f"http://localhost:{port}/registry-cdn/{reference}"})
            else:
                self._serve(seen, reference, self.fake.blobs[reference])
            return
        found = self.fake.manifests.get((repository, reference))
        if found is None:
            known = any(name == repository for name, _ in self.fake.manifests)
            self._send(404, registry_error("MANIFEST_UNKNOWN" if known else "NAME_UNKNOWN"))
            return
        media, body = found
        self._send(
            200, body, {"Content-Type": media, "Docker-Content-Digest": f"sha256:{hashlib.sha256(body).hexdigest()}"}
        )

    def _registry_allows(self, seen: Seen, repository: str) -> bool:
        """True when the request may pull `repository`; else a 401 with the challenge has been sent."""
        header = seen.headers.get("authorization", "")
        if self.fake.registry_auth is None:
            return True
        if self.fake.registry_auth == "basic":
            if basic_user(header, self.fake.registry_users):
                return True
            challenge = 'Basic realm="fake-registry"'
        else:
            with self.fake.lock:
                user, scope = self.fake.tokens.get(header.removeprefix("Bearer "), (None, ""))
            if scope == f"repository:{repository}:pull" and (user or repository in self.fake.public_repos):
                return True
            challenge = (
                f'Bearer realm="{self.fake.url}/token",service="fake-registry",scope="repository:{repository}:pull"'
            )
        self._send(401, registry_error("UNAUTHORIZED"), {"WWW-Authenticate": challenge})
        return False

    def _token(self, seen: Seen) -> None:
        """Docker Hub's way: a token for anyone, which lets an anonymous caller pull public repositories only."""
        header = seen.headers.get("authorization")
        user = basic_user(header, self.fake.registry_users) if header else None
        if header and not user:
            self._send(401, b'{"details": "incorrect username or password"}')
            return
        with self.fake.lock:
            token = f"token-{len(self.fake.tokens)}-{user or 'anonymous'}"
            self.fake.tokens[token] = (user, seen.query.get("scope", ""))
        self._send(
            200,
            json.dumps({self.fake.token_key: token, "expires_in": 300}).encode(),
            {"Content-Type": "application/json"},
        )

    # -- bodies --------------------------------------------------------------------------------------------
    def _serve(self, seen: Seen, path: str, content: bytes, extra: dict[str, str] | None = None) -> None:
        if path in self.fake.corrupt:
            content = bytes(b ^ 0xFF for b in content)
        if path in self.fake.corrupt_spans:
            first, last = self.fake.corrupt_spans[path]
            content = content[:first] + bytes(b ^ 0xFF for b in content[first:last]) + content[last:]
        headers = dict(extra or {})
        # `bytes=start-` (a resume) and `bytes=start-end` (a ranged part), as RFC 9110 has them.
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", seen.headers.get("range", ""))
        start = 0 if self.fake.ignore_range or not match else int(match.group(1))
        end = (
            len(content)
            if self.fake.ignore_range or not match or not match.group(2)
            else min(int(match.group(2)) + 1, len(content))
        )
        if start >= len(content) and start > 0:
            self._send(416, b"", {"Content-Range": f"bytes */{len(content)}"})
            return
        status = 206 if match and not self.fake.ignore_range else 200
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(content)}"
        body = content[start:end]
        with self.fake.lock:
            cut = self.fake.cut_first_response.pop(path, None)
            self.fake.streaming += 1
            self.fake.max_streaming = max(self.fake.max_streaming, self.fake.streaming)
        try:
            if self.fake.body_delay:
                time.sleep(self.fake.body_delay)
            self.send_response(status)
            for name, value in {**headers, "Content-Length": str(len(body))}.items():
                self.send_header(name, value)
            self.end_headers()
            # A cut response announces the whole length but the connection closes early, as a dropped link does.
            self.wfile.write(body if cut is None else body[:cut])
            self.wfile.flush()
        finally:
            with self.fake.lock:
                self.fake.streaming -= 1
        self.close_connection = True

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {**(headers or {}), "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def registry_error(code: str) -> bytes:
    return json.dumps({"errors": [{"code": code, "message": code.lower().replace("_", " ")}]}).encode()


def basic_user(header: str, users: dict[str, str]) -> str | None:
    """The user a `Basic` Authorization header names, if its password is right."""
    if not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
    return user if users.get(user) == password and user else None


def etag(key: str, content: bytes, multipart: set[str]) -> str:
    return f"{hashlib.md5(content[:1]).hexdigest()}-2" if key in multipart else hashlib.md5(content).hexdigest()


# -- SigV4, written apart from the loader's, from the AWS documentation --------------------------------------
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[A-Z0-9]+)/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)/s3/aws4_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9-]+(?:;[a-z0-9-]+)*), Signature=(?P<signature>[0-9a-f]{64})"
)


def expected_signature(
    secret: str, method: str, raw_path: str, headers: dict[str, str], signed: list[str], date: str, region: str
) -> str:
    path, _, raw_query = raw_path.partition("?")
    pairs = [
        (quote(unquote(k), safe="~"), quote(unquote(v), safe="~"))
        for k, _, v in (p.partition("=") for p in raw_query.split("&") if p)
    ]
    canonical = "\n".join(
        [
            method,
            path,
            "&".join(f"{k}={v}" for k, v in sorted(pairs)),
            "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed),
            ";".join(signed),
            headers["x-amz-content-sha256"],
        ]
    )
    scope = f"{date}/{region}/s3/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{headers['x-amz-date']}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = ("AWS4" + secret).encode()
    for part in (date, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def check_sigv4(seen: Seen, keys: dict[str, str]) -> str | None:
    """None when the request carries a valid signature by one of `keys`, else the S3 error code."""
    match = AUTHORIZATION.fullmatch(seen.headers.get("authorization", ""))
    if not match:
        return "AccessDenied"
    if match["key"] not in keys:
        return "InvalidAccessKeyId"
    signed = match["signed"].split(";")
    if not {"host", "x-amz-date", "x-amz-content-sha256"} <= set(signed):
        return "AccessDenied"
    expected = expected_signature(
        keys[match["key"]], seen.method, seen.raw_path, seen.headers, signed, match["date"], match["region"]
    )
    return None if hmac.compare_digest(expected, match["signature"]) else "SignatureDoesNotMatch"


# -- running the loader ---------------------------------------------------------------------------------------
@dataclass
class Outcome:
    code: int
    termination: str
    stderr: str
    sleeps: list[float]


def fast_retry(sleeps: list[float] | None = None) -> RetryPolicy:
    record = sleeps if sleeps is not None else []
    return RetryPolicy(base_delay=0.001, max_delay=0.01, timeout=10, sleep=record.append)


def run_loader(plan: list[dict[str, Any]] | str, tmp_path: Path, env: dict[str, str] | None = None) -> Outcome:
    """The CLI in-process with a fast retry policy; stderr captured, the termination log read back."""
    termination = tmp_path / f"termination-{time.monotonic_ns()}.log"
    sleeps: list[float] = []
    text = plan if isinstance(plan, str) else json.dumps(plan)
    stderr = io.StringIO()
    with redirect_stderr(stderr):
        code = main(["--plan", text, "--termination-log", str(termination)], retry=fast_retry(sleeps), env=env or {})
    sys.stderr.write(stderr.getvalue())  # visible in pytest's report when a test fails
    return Outcome(code, termination.read_text() if termination.exists() else "", stderr.getvalue(), sleeps)


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def model_files(root: Path) -> Iterator[str]:
    """The paths under root that are not the loader's own bookkeeping."""
    return (p for p in files_under(root) if not p.split("/")[-1].startswith(".genai-"))
