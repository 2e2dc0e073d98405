"""The model loader against hostile or broken servers (issue 17, item 6): a listing's next page on another host
or in a loop (the Hub's Link header, S3's continuation token), listings with no end, credentials on a redirect
that changes scheme or host (the token, every SigV4 header), and manifests or listings too large for the pod's
memory. Every server listens on 127.0.0.1 and every limit is set small through the environment.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from test_loader_oci import descriptor, env_for, host, image

from genai_model_loader.http_transport import _RedirectHandler
from support.loader_http import FakeRemote, run_loader

TOKEN = "hf_s3cret-token"
ENTRY = [{"type": "file", "path": "config.json", "size": 2, "oid": "0" * 40}]


@pytest.fixture
def fake() -> Iterator[FakeRemote]:
    with FakeRemote() as remote:
        remote.add_repo("org/llm", {"config.json": b"{}", "model.safetensors": b"w" * 1000})
        remote.add_bucket("models", {f"llm/part-{n}.safetensors": b"p" * 10 for n in range(5)})
        yield remote


def item(dest: Path, uri: str) -> dict[str, Any]:
    return {"name": "model", "uri": uri, "dest": str(dest)}


def port(remote: FakeRemote) -> int:
    return int(remote.server.server_address[1])


# -- pagination ------------------------------------------------------------------------------------------------
def test_a_hub_next_page_on_another_host_is_refused_and_gets_no_token(fake: FakeRemote, tmp_path: Path) -> None:
    elsewhere = f"http://localhost:{port(fake)}/api/models/org/llm/tree/main?recursive=true&cursor=1"
    fake.respond("/tree/", 200, headers={"Link": f'<{elsewhere}>; rel="next"'}, body=json.dumps(ENTRY).encode())
    outcome = run_loader(
        [item(tmp_path / "llm", "hf://org/llm")], tmp_path, {"HF_ENDPOINT": fake.url, "HF_TOKEN": TOKEN}
    )
    assert outcome.code == 1
    assert outcome.termination.startswith(
        "InvalidSource: model hf://org/llm: listing org/llm: the next page is at "
        f"http://localhost:{port(fake)}, not http://127.0.0.1:{port(fake)}; refused"
    )
    assert not [r for r in fake.requests if r.headers.get("host", "").startswith("localhost")]
    assert TOKEN not in outcome.stderr + outcome.termination


def test_a_hub_listing_that_pages_in_a_loop_stops(fake: FakeRemote, tmp_path: Path) -> None:
    again = '</api/models/org/llm/tree/main?recursive=true&cursor=1>; rel="next"'
    fake.respond("/tree/", 200, times=50, headers={"Link": again}, body=json.dumps(ENTRY).encode())
    outcome = run_loader([item(tmp_path / "llm", "hf://org/llm")], tmp_path, {"HF_ENDPOINT": fake.url})
    assert outcome.code == 1
    assert (
        "listing org/llm: the server sends an earlier page again after 2 pages (a pagination loop)"
        in outcome.termination
    )
    assert len(fake.seen("/tree/")) == 2


def test_an_s3_listing_repeating_its_continuation_token_stops(fake: FakeRemote, tmp_path: Path) -> None:
    page = (
        "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>same</NextContinuationToken>"
        '<Contents><Key>llm/a.safetensors</Key><Size>1</Size><ETag>"x"</ETag></Contents></ListBucketResult>'
    )
    fake.respond("/models/", 200, times=50, body=page.encode())
    outcome = run_loader([item(tmp_path / "llm", "s3://models/llm")], tmp_path, {"AWS_ENDPOINT_URL": fake.url})
    assert outcome.code == 1 and "a pagination loop" in outcome.termination
    assert len(fake.seen("/models/")) == 2


def test_a_listing_longer_than_the_page_limit_stops_naming_the_setting(fake: FakeRemote, tmp_path: Path) -> None:
    fake.list_page_size = 1
    env = {"AWS_ENDPOINT_URL": fake.url, "LOADER_MAX_LIST_PAGES": "3"}
    outcome = run_loader([item(tmp_path / "llm", "s3://models/llm")], tmp_path, env)
    assert outcome.code == 1
    assert outcome.termination.rstrip().endswith(
        "listing s3://models: more than 3 pages; narrow the uri, or raise "
        "LOADER_MAX_LIST_PAGES if the listing is genuinely that long"
    )
    assert len(fake.seen("/models/")) == 3
    env["LOADER_MAX_LIST_PAGES"] = "5"
    assert run_loader([item(tmp_path / "llm", "s3://models/llm")], tmp_path, env).code == 0


def test_a_bad_limit_setting_is_a_bad_plan(tmp_path: Path) -> None:
    outcome = run_loader([item(tmp_path / "llm", "hf://org/llm")], tmp_path, {"LOADER_MAX_LIST_PAGES": "lots"})
    assert outcome.code == 2
    assert outcome.termination == "InvalidPlan: LOADER_MAX_LIST_PAGES must be a positive integer, not 'lots'\n"


# -- credentials on redirects ----------------------------------------------------------------------------------
def redirected(url: str, to: str, headers: dict[str, str]) -> dict[str, str]:
    request = urllib.request.Request(url, headers=headers)
    new = _RedirectHandler().redirect_request(request, None, 302, "Found", Message(), to)
    assert new is not None
    return {name.lower(): value for name, value in new.header_items()}


def test_no_credential_survives_a_change_of_scheme_or_host() -> None:
    signed = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=...",
        "X-Amz-Security-Token": "session",
        "x-amz-date": "20240101T000000Z",
        "X-Amz-Content-Sha256": "e3b0",
        "Cookie": "c=1",
        "Accept": "*/*",
    }
    for to in ("http://hub.example/b", "https://cdn.example/b", "https://hub.example:8443/b"):
        assert redirected("https://hub.example/a", to, signed) == {"accept": "*/*"}, to
    same = redirected("https://hub.example/a", "https://HUB.example:443/b", signed)
    assert same["x-amz-security-token"] == "session" and same["authorization"].startswith("AWS4")


def test_a_redirect_to_another_scheme_than_http_is_not_followed() -> None:
    request = urllib.request.Request("https://hub.example/a")
    assert _RedirectHandler().redirect_request(request, None, 302, "Found", Message(), "ftp://x/y") is None


def test_an_s3_redirect_to_another_host_carries_no_signed_header(fake: FakeRemote, tmp_path: Path) -> None:
    target = f"http://localhost:{port(fake)}/models/llm/part-0.safetensors"
    fake.respond("/models/llm/part-0.safetensors", 307, headers={"Location": target})
    env = {
        "AWS_ENDPOINT_URL": fake.url,
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_SESSION_TOKEN": "session-token",
    }
    assert run_loader([item(tmp_path / "llm", "s3://models/llm")], tmp_path, env).code == 0
    moved = [r for r in fake.requests if r.headers.get("host", "").startswith("localhost")]
    assert len(moved) == 1
    assert not [name for name in moved[0].headers if name == "authorization" or name.startswith("x-amz-")]


# -- bodies too large for memory -------------------------------------------------------------------------------
def test_a_manifest_over_the_metadata_limit_is_refused(fake: FakeRemote, tmp_path: Path) -> None:
    layer = descriptor(fake, b"{}", "application/vnd.oci.image.layer.v1.tar", "config.json")
    image(fake, "org/llm", [layer | {"annotations": {"padding": "x" * 100_000, **layer["annotations"]}}], "v1")
    env = env_for(fake) | {"LOADER_MAX_METADATA_BYTES": "65536"}
    outcome = run_loader([item(tmp_path / "llm", f"oci://{host(fake)}/org/llm:v1")], tmp_path, env)
    assert outcome.code == 1
    assert (
        "answers with more than 65536 bytes, refused (a manifest or a listing page is far smaller); if it is "
        "genuine, raise LOADER_MAX_METADATA_BYTES" in outcome.termination
    )


class _Endless(BaseHTTPRequestHandler):
    """A listing without Content-Length that goes on and on (32 MiB, then the server gives up)."""

    protocol_version = "HTTP/1.0"
    written = 0

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        try:
            self.wfile.write(b"[")
            for _ in range(512):
                self.wfile.write(b" " * 65536)
                type(self).written += 65536
        except OSError:
            pass  # the loader hung up, as it should


def test_a_listing_without_end_is_read_only_up_to_the_limit(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        env = {"HF_ENDPOINT": f"http://127.0.0.1:{server.server_address[1]}", "LOADER_MAX_METADATA_BYTES": "100000"}
        outcome = run_loader([item(tmp_path / "llm", "hf://org/llm")], tmp_path, env)
    finally:
        server.shutdown()
        server.server_close()
    assert outcome.code == 1
    assert f"listing org/llm: {env['HF_ENDPOINT']} answers with more than 100000 bytes" in outcome.termination
    assert _Endless.written < 32 << 20
