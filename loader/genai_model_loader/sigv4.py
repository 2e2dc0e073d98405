"""AWS Signature Version 4 for S3 requests (and GCS interoperability with HMAC keys), with hashlib and hmac only:
https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl, quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class Credentials:
    access_key: str
    # Kept out of repr so that no log line or traceback can print them.
    secret_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    credentials: Credentials,
    region: str,
    now: datetime,
    *,
    service: str = "s3",
    payload_hash: str = EMPTY_SHA256,
) -> dict[str, str]:
    """`headers` plus x-amz-date, x-amz-content-sha256, x-amz-security-token (with a session token) and the
    Authorization header; every header given is signed, together with host. `now` must be UTC."""
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    out = dict(headers)
    out["x-amz-date"] = amz_date
    out["x-amz-content-sha256"] = payload_hash
    if credentials.session_token:
        out["x-amz-security-token"] = credentials.session_token
    canonical, signed_headers = canonical_request(method, url, out, payload_hash)
    string_to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = signing_key(credentials.secret_key, amz_date[:8], region, service)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    out["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    return out


def canonical_request(method: str, url: str, headers: Mapping[str, str], payload_hash: str) -> tuple[str, str]:
    """(the canonical request, the signed header list). The URL's path is used as sent: S3 paths are encoded
    once, by whoever built the URL."""
    parts = urlsplit(url)
    values = {name.lower(): " ".join(value.split()) for name, value in headers.items()}
    values["host"] = parts.netloc
    names = sorted(values)
    query = sorted((_encode(k), _encode(v)) for k, v in parse_qsl(parts.query, keep_blank_values=True))
    canonical = "\n".join(
        [
            method.upper(),
            parts.path or "/",
            "&".join(f"{k}={v}" for k, v in query),
            "".join(f"{name}:{values[name]}\n" for name in names),
            ";".join(names),
            payload_hash,
        ]
    )
    return canonical, ";".join(names)


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret_key}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _encode(value: str) -> str:
    return quote(value, safe="-_.~")
