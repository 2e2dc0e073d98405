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
from genai_model_loader.retry import RetryPolicy, TransientError, parse_retry_after, with_retries

USER_AGENT = f"genai-model-loader/{__version__}"
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


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    """Follows redirects (the Hub sends file downloads to a CDN) but never carries the token to another host:
    presigned CDN URLs reject a second credential, and the token is not theirs to see."""

    def redirect_request(self, req: urllib.request.Request, fp: object, code: int, msg: str, headers: Message,
                         newurl: str) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)  # type: ignore[arg-type]
        if new is not None and urlsplit(newurl).netloc != urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
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
            raise TransientError(f"HTTP {err.code} from {urlsplit(err.url or request.full_url).netloc}",
                                 retry_after) from None
        raise HttpStatusError(err.code, request.full_url, err.headers, body) from None
    except urllib.error.URLError as err:
        if isinstance(err.reason, ssl.SSLCertVerificationError):
            raise LoaderError(Reason.NETWORK_ERROR, f"TLS verification of {host} failed ({err.reason.verify_message}); "
                              "for an endpoint with a private CA, mount its bundle and set SSL_CERT_FILE") from None
        raise TransientError(f"cannot reach {host}: {err.reason}") from None
    except (OSError, http.client.HTTPException) as err:
        raise TransientError(f"connection to {host} failed: {err!r}") from None


def read_body(factory: RequestFactory, policy: RetryPolicy, what: str, hint: str) -> tuple[bytes, Message, str]:
    """A small response read whole, with retries: (body, headers, final URL after redirects)."""

    def attempt() -> tuple[bytes, Message, str]:
        request = factory({})
        response = open_response(request, policy.timeout)
        with response:
            try:
                body = response.read()
            except (OSError, http.client.HTTPException) as err:
                raise TransientError(f"reading {urlsplit(request.full_url).netloc} failed: {err!r}") from None
            return body, response.headers, response.geturl()

    return with_retries(attempt, policy, what, hint)


def next_link(headers: Message, base_url: str) -> str | None:
    """The rel="next" target of a Link header (the Hub's pagination), absolute."""
    for part in str(headers.get("Link") or "").split(","):
        match = re.match(r'\s*<([^>]+)>\s*;(.*)', part)
        if match and re.search(r'rel="?next"?', match.group(2)):
            return urljoin(base_url, str(match.group(1)))
    return None


def _snippet(err: urllib.error.HTTPError) -> str:
    try:
        return err.read(2000).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException):
        return ""
