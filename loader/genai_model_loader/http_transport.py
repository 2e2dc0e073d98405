"""HTTP over urllib: one opener for every request, errors sorted into retryable (TransientError) and final
(HttpStatusError, for the source to explain), and small API reads with retries."""

from __future__ import annotations

import http.client
import re
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from email.message import Message
from typing import cast
from urllib.parse import urljoin, urlsplit

from genai_model_loader import __version__
from genai_model_loader.errors import LoaderError, Reason
from genai_model_loader.limits import METADATA_ENV, PAGES_ENV
from genai_model_loader.retry import RetryPolicy, TransientError, parse_retry_after, with_retries

USER_AGENT = f"genai-model-loader/{__version__}"
CHUNK = 1 << 16
RequestFactory = Callable[[dict[str, str]], urllib.request.Request]


class HttpStatusError(Exception):
    """A final HTTP answer (4xx other than 429, or a redirect without a target) for the source to explain."""

    def __init__(self, status: int, url: str, headers: Message, body: str) -> None:
        super().__init__(f"HTTP {status} from {url}")
        self.status = status
        self.url = url
        self.headers = headers
        self.body = body

    @property
    def error_code(self) -> str | None:
        """The server's own name for the error: the Hub's X-Error-Code header or S3's <Code> element."""
        code = self.headers.get("X-Error-Code")
        if code:
            return str(code)
        match = re.search(r"<Code>([^<]{1,100})</Code>", self.body)
        return match.group(1) if match else None


# What a request may carry that proves who it is: the Hub's and the registry's tokens, SigV4's signature and
# session token (x-amz-*: a signed request is only valid as a whole), cookies.
CREDENTIAL_HEADERS = ("authorization", "cookie")
SIGNED_PREFIX = "x-amz-"


def origin(url: str) -> str:
    """scheme://host[:port] of a URL, without user info: what credentials are bound to, and safe to show."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"http": 80, "https": 443}.get(scheme)
    return f"{scheme}://{(parts.hostname or '').lower()}:{port}"


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follows redirects (the Hub sends file downloads to a CDN, registries to storage) but carries no credential
    to another origin: not to another host (presigned CDN URLs reject a second credential, and the token is not
    theirs to see), and not from https to plain http on the same host. Only http and https are followed."""

    def redirect_request(
        self, req: urllib.request.Request, fp: object, code: int, msg: str, headers: Message, newurl: str
    ) -> urllib.request.Request | None:
        if urlsplit(newurl).scheme.lower() not in ("http", "https"):
            return None  # the 3xx itself becomes the error
        new = super().redirect_request(req, fp, code, msg, headers, newurl)  # type: ignore[arg-type]
        if new is not None and origin(newurl) != origin(req.full_url):
            for name in [
                n for n in new.headers if n.lower() in CREDENTIAL_HEADERS or n.lower().startswith(SIGNED_PREFIX)
            ]:
                del new.headers[name]
        return new


_OPENER = urllib.request.build_opener(_RedirectHandler)


def build_request(url: str, headers: dict[str, str], method: str = "GET") -> urllib.request.Request:
    return urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers}, method=method)


def open_response(request: urllib.request.Request, timeout: float) -> http.client.HTTPResponse:
    """The response of a 2xx; raises TransientError or HttpStatusError otherwise."""
    host = urlsplit(request.full_url).netloc
    try:
        return cast(http.client.HTTPResponse, _OPENER.open(request, timeout=timeout))
    except urllib.error.HTTPError as err:
        body = _snippet(err)
        if err.code == 429 or err.code >= 500:
            retry_after = parse_retry_after(err.headers.get("Retry-After"))
            # The host that answered, which after a redirect is not the one asked.
            raise TransientError(
                f"HTTP {err.code} from {urlsplit(err.url or request.full_url).netloc}", retry_after
            ) from None
        raise HttpStatusError(err.code, request.full_url, err.headers, body) from None
    except urllib.error.URLError as err:
        if isinstance(err.reason, ssl.SSLCertVerificationError):
            raise LoaderError(
                Reason.NETWORK_ERROR,
                f"TLS verification of {host} failed ({err.reason.verify_message}); "
                "for an endpoint with a private CA, mount its bundle and set SSL_CERT_FILE",
            ) from None
        raise TransientError(f"cannot reach {host}: {err.reason}") from None
    except (OSError, http.client.HTTPException) as err:
        raise TransientError(f"connection to {host} failed: {err!r}") from None


def read_body(
    factory: RequestFactory, policy: RetryPolicy, what: str, hint: str, max_bytes: int
) -> tuple[bytes, Message, str]:
    """A small response (a manifest, a listing page, a token) read with retries, streamed and refused past
    `max_bytes` so that a hostile answer cannot fill the pod's memory: (body, headers, final URL)."""

    def attempt() -> tuple[bytes, Message, str]:
        request = factory({})
        response = open_response(request, policy.timeout)
        host = origin(response.geturl())  # without user info: the message ends up in a status condition
        with response:
            if response.length is not None and response.length > max_bytes:
                raise _too_large(what, host, max_bytes)
            chunks: list[bytes] = []
            received = 0
            while True:
                try:
                    chunk = response.read(min(CHUNK, max_bytes + 1 - received))
                except (OSError, http.client.HTTPException) as err:
                    raise TransientError(f"reading {host} failed: {err!r}") from None
                if not chunk:
                    break
                chunks.append(chunk)
                received += len(chunk)
                if received > max_bytes:
                    raise _too_large(what, host, max_bytes)
            return b"".join(chunks), response.headers, response.geturl()

    return with_retries(attempt, policy, what, hint)


def _too_large(what: str, host: str, max_bytes: int) -> LoaderError:
    return LoaderError(
        Reason.INVALID_SOURCE,
        f"{what}: {host} answers with more than {max_bytes} bytes, refused "
        f"(a manifest or a listing page is far smaller); if it is genuine, raise {METADATA_ENV}",
    )


class Pages:
    """Bounds a paged listing: at most `max_pages` pages, no page asked for twice (a server sending the same
    continuation again would be followed forever), every page from the origin of the first one (where the
    credentials may go)."""

    def __init__(self, first_url: str, what: str, max_pages: int) -> None:
        self.origin = origin(first_url)
        self.what = what
        self.max_pages = max_pages
        self.seen: set[str] = {first_url}

    def follow(self, cursor: str, url: str | None = None) -> None:
        """Accept the next page, named by its `cursor` (a continuation token or the URL) and at `url`."""
        if url is not None and origin(url) != self.origin:
            raise LoaderError(
                Reason.INVALID_SOURCE,
                f"{self.what}: the next page is at {origin(url)}, not "
                f"{self.origin}; refused, credentials and listings stay with one host (check the "
                "endpoint or a proxy rewriting Link headers)",
            )
        if cursor in self.seen:
            raise LoaderError(
                Reason.INVALID_SOURCE,
                f"{self.what}: the server sends an earlier page again after "
                f"{len(self.seen)} pages (a pagination loop); check the endpoint",
            )
        if len(self.seen) >= self.max_pages:
            raise LoaderError(
                Reason.INVALID_SOURCE,
                f"{self.what}: more than {self.max_pages} pages; narrow the "
                f"uri, or raise {PAGES_ENV} if the listing is genuinely that long",
            )
        self.seen.add(cursor)


def next_link(headers: Message, base_url: str) -> str | None:
    """The rel="next" target of a Link header (the Hub's pagination), absolute."""
    for part in str(headers.get("Link") or "").split(","):
        match = re.match(r"\s*<([^>]+)>\s*;(.*)", part)
        if match and re.search(r'rel="?next"?', match.group(2)):
            return urljoin(base_url, str(match.group(1)))
    return None


def _snippet(err: urllib.error.HTTPError) -> str:
    try:
        return err.read(2000).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        return ""
