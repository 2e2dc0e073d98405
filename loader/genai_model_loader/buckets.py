"""S3 and S3-compatible stores (GCS through its XML API with HMAC keys, MinIO, Ceph...): ListObjectsV2 with
continuation tokens, then a GET per object, each signed with SigV4 when keys are set and anonymous otherwise."""

from __future__ import annotations

import re
import urllib.request
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from email.message import Message
from functools import partial
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from genai_model_loader.download import download
from genai_model_loader.errors import LoaderError, Reason, credentials_field
from genai_model_loader.http_transport import HttpStatusError, Pages, build_request, read_body
from genai_model_loader.limits import from_env
from genai_model_loader.progress import FileProgress
from genai_model_loader.remote_files import FetchedFile, Listing, RemoteFile, checked_relative
from genai_model_loader.retry import RetryPolicy
from genai_model_loader.sigv4 import Credentials, sign
from genai_model_loader.source_uris import BucketRef
from genai_model_loader.transfer import Transfer

GCS_ENDPOINT = "https://storage.googleapis.com"
MD5_ETAG = re.compile(r"[0-9a-f]{32}")


class BucketSource:
    default_filter = False
    concurrent_files = True

    def __init__(
        self,
        ref: BucketRef,
        item_name: str,
        env: Mapping[str, str],
        policy: RetryPolicy,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        transfer: Transfer | None = None,
    ) -> None:
        self.ref = ref
        self.transfer = transfer or Transfer()
        self.item_name = item_name
        self.policy = policy
        self.limits = from_env(env)
        self.clock = clock
        if ref.scheme == "gs":
            self.service, self.region = "GCS", "auto"
            self.base = f"{(env.get('GS_ENDPOINT_URL') or GCS_ENDPOINT).rstrip('/')}/{ref.bucket}"
        else:
            self.service = "S3"
            self.region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
            endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
            if endpoint:  # MinIO, Ceph and friends: path-style
                self.base = f"{endpoint.rstrip('/')}/{ref.bucket}"
            elif "." in ref.bucket:  # a dotted name breaks the TLS wildcard of virtual-hosted style
                self.base = f"https://s3.{self.region}.amazonaws.com/{ref.bucket}"
            else:
                self.base = f"https://{ref.bucket}.s3.{self.region}.amazonaws.com"
        access, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
        self.credentials = (
            Credentials(access, secret, env.get("AWS_SESSION_TOKEN") or None) if access and secret else None
        )
        self.keys: dict[str, str] = {}  # path under dest -> object key, filled by list_files
        self.hint = f"check that the pod reaches {urlsplit(self.base).netloc} (DNS, proxy, NetworkPolicy egress)"

    def list_files(self) -> Listing:
        files = []
        for key, size, etag in self._objects():
            relative = self._relative(key)
            if relative is None:
                continue
            path, md5 = checked_relative(relative), etag.strip('"').lower()
            self.keys[path] = key
            files.append(RemoteFile(path, size, md5=md5 if MD5_ETAG.fullmatch(md5) else None))
        if not files:
            raise LoaderError(
                Reason.NOT_FOUND,
                f"no objects under {self.ref.scheme}://{self.ref.bucket}/"
                f"{self.ref.prefix}; check the bucket and prefix",
            )
        return Listing(tuple(files))

    def fetch(self, file: RemoteFile, target: Path, progress: FileProgress) -> FetchedFile:
        url = f"{self.base}/{quote(self.keys[file.path], safe='/~')}"
        return download(
            partial(self._request, url),
            file,
            target,
            progress,
            self.policy,
            self._explain,
            self.hint,
            md5_applies=_etag_is_md5,
            transfer=self.transfer,
        )

    def _objects(self) -> Iterator[tuple[str, int, str]]:
        token: str | None = None
        what = f"listing {self.ref.scheme}://{self.ref.bucket}"
        pages = Pages(self.base, what, self.limits.max_list_pages)
        while True:
            params = {"list-type": "2", "prefix": self.ref.prefix}
            if token:
                params["continuation-token"] = token
            url = f"{self.base}/?{urlencode(params, quote_via=lambda v, *_: quote(v, safe='-_.~'))}"
            try:
                body, _, _ = read_body(
                    partial(self._request, url), self.policy, what, self.hint, self.limits.max_metadata_bytes
                )
            except HttpStatusError as err:
                raise self._explain(err) from None
            try:
                root = ElementTree.fromstring(body)
            except ElementTree.ParseError:
                raise LoaderError(
                    Reason.NETWORK_ERROR, f"the {self.service} listing is not XML; check the endpoint"
                ) from None
            for contents in _children(root, "Contents"):
                key, size, etag = (_text(contents, name) for name in ("Key", "Size", "ETag"))
                if key and not key.endswith("/"):
                    yield key, int(size or 0), etag
            token = _text(root, "NextContinuationToken")
            if _text(root, "IsTruncated").lower() != "true" or not token:
                return
            pages.follow(token)  # a store repeating a token (or never done) would be listed forever

    def _relative(self, key: str) -> str | None:
        """The path under dest: keys below the prefix as a directory, or the one key the prefix names."""
        prefix = self.ref.prefix
        if not prefix:
            return key
        if key == prefix:
            return key.rsplit("/", 1)[-1]
        if prefix.endswith("/"):
            return key[len(prefix) :]
        return key[len(prefix) + 1 :] if key.startswith(prefix + "/") else None

    def _request(self, url: str, headers: Mapping[str, str]) -> urllib.request.Request:
        if self.credentials is None:
            return build_request(url, dict(headers))
        return build_request(url, sign("GET", url, headers, self.credentials, self.region, self.clock()))

    def _explain(self, err: HttpStatusError) -> LoaderError:
        return explain_bucket_error(err, self.service, self.item_name, self.credentials is not None)


def explain_bucket_error(err: HttpStatusError, service: str, item_name: str, signed: bool) -> LoaderError:
    code = err.error_code or ""
    said = f"{service} answered {err.status}" + (f" ({code})" if code else "")
    cred = credentials_field(item_name)
    region = err.headers.get("x-amz-bucket-region")
    if region or code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"):
        where = f"region {region}" if region else "another region"
        return LoaderError(Reason.INVALID_SOURCE, f"{said}: the bucket is in {where}; set AWS_REGION to it")
    if err.status in (401, 403):
        reason = Reason.UNAUTHORIZED if err.status == 401 else Reason.FORBIDDEN
        if not signed:
            return LoaderError(
                reason,
                f"{said} to an anonymous request; set {cred} to a Secret with keys "
                "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            )
        fixes = {
            "InvalidAccessKeyId": "AWS_ACCESS_KEY_ID is unknown to the store; check the key in the Secret",
            "SignatureDoesNotMatch": "AWS_SECRET_ACCESS_KEY does not match the key id; check the Secret",
            "ExpiredToken": "the session token expired; refresh AWS_SESSION_TOKEN in the Secret",
        }
        fix = fixes.get(
            code,
            "the keys in the Secret must allow listing the bucket (s3:ListBucket) and reading "
            "the objects (s3:GetObject) under this prefix",
        )
        return LoaderError(reason, f"{said}; {fix} ({cred})")
    if err.status == 404:
        if code == "NoSuchKey":
            return LoaderError(Reason.NOT_FOUND, f"{said}: an object listed a moment ago is gone; run it again")
        return LoaderError(Reason.NOT_FOUND, f"{said}: the bucket does not exist; check the bucket name")
    return LoaderError(Reason.NETWORK_ERROR, f"{said} for {err.url}; check the endpoint and the uri")


def _etag_is_md5(headers: Message | None) -> bool:
    """With SSE-KMS or customer keys S3's ETag is not the MD5 of the bytes, even for a single-part upload
    (with the default SSE-S3, AES256, it still is)."""
    if headers is None:
        return True
    kms = str(headers.get("x-amz-server-side-encryption") or "").startswith("aws:kms")
    return not kms and not headers.get("x-amz-server-side-encryption-customer-algorithm")


def _children(element: ElementTree.Element, name: str) -> Iterator[ElementTree.Element]:
    return (child for child in element if child.tag.rsplit("}", 1)[-1] == name)


def _text(element: ElementTree.Element, name: str) -> str:
    for child in _children(element, name):
        return (child.text or "").strip()
    return ""
