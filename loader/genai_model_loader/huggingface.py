"""The Hugging Face Hub (or a mirror at HF_ENDPOINT): the repository tree at one commit, files downloaded from
`resolve/` with the token in HF_TOKEN, and the Hub's refusals explained with the fix."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from genai_model_loader.download import download
from genai_model_loader.errors import LoaderError, Reason, credentials_field
from genai_model_loader.http_transport import HttpStatusError, Pages, build_request, next_link, read_body
from genai_model_loader.limits import from_env
from genai_model_loader.progress import FileProgress
from genai_model_loader.remote_files import FetchedFile, Listing, RemoteFile, checked_relative
from genai_model_loader.retry import RetryPolicy
from genai_model_loader.source_uris import HubRef
from genai_model_loader.transfer import Transfer

log = logging.getLogger(__name__)
DEFAULT_ENDPOINT = "https://huggingface.co"


class HubSource:
    default_filter = True
    concurrent_files = True

    def __init__(
        self, ref: HubRef, item_name: str, env: Mapping[str, str], policy: RetryPolicy, transfer: Transfer | None = None
    ) -> None:
        self.ref = ref
        self.transfer = transfer or Transfer()
        self.item_name = item_name
        self.endpoint = (env.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        self.token = env.get("HF_TOKEN") or env.get("HUGGING_FACE_HUB_TOKEN") or None
        self.policy = policy
        self.limits = from_env(env)
        self.revision = ref.revision or "main"
        # Files come from the commit the branch pointed at when listing, so a push mid-download cannot mix commits.
        self.pinned = self.revision
        self.hint = f"check that the pod reaches {urlsplit(self.endpoint).netloc} (DNS, proxy, NetworkPolicy egress)"

    def list_files(self) -> Listing:
        sha = self._commit_sha()
        if sha:
            self.pinned = sha
        first = f"{self.endpoint}/api/models/{self.ref.repo}/tree/{quote(self.pinned, safe='')}?recursive=true"
        files: list[RemoteFile] = []
        what = f"listing {self.ref.repo}"
        pages = Pages(first, what, self.limits.max_list_pages)
        url: str | None = first
        while url:
            try:
                body, headers, final_url = read_body(
                    partial(self._request, url), self.policy, what, self.hint, self.limits.max_metadata_bytes
                )
            except HttpStatusError as err:
                raise self._explain(err) from None
            files += [self._remote_file(entry) for entry in self._json(body) if entry.get("type") == "file"]
            url = next_link(headers, final_url)
            if url:  # the token goes with every page: never to another host, never in a loop
                pages.follow(url, url)
        return Listing(tuple(files), revision=self.ref.revision, resolved_sha=sha)

    def fetch(self, file: RemoteFile, target: Path, progress: FileProgress) -> FetchedFile:
        url = f"{self.endpoint}/{self.ref.repo}/resolve/{quote(self.pinned, safe='')}/{quote(file.path)}"
        return download(
            partial(self._request, url),
            file,
            target,
            progress,
            self.policy,
            self._explain,
            self.hint,
            transfer=self.transfer,
        )

    def _commit_sha(self) -> str | None:
        """Best effort: a mirror may not have this API, and the listing explains real failures better."""
        url = f"{self.endpoint}/api/models/{self.ref.repo}/revision/{quote(self.revision, safe='')}"
        try:
            body, _, _ = read_body(
                partial(self._request, url),
                replace(self.policy, attempts=2),
                f"resolving {self.revision}",
                self.hint,
                self.limits.max_metadata_bytes,
            )
            sha = json.loads(body).get("sha")
        except (HttpStatusError, LoaderError, ValueError, AttributeError) as err:
            log.debug("%s: no commit sha for %s (%s)", self.item_name, self.revision, err)
            return None
        return sha if isinstance(sha, str) and sha else None

    def _request(self, url: str, headers: Mapping[str, str] | None = None) -> urllib.request.Request:
        extra = dict(headers or {})
        if self.token:
            extra["Authorization"] = f"Bearer {self.token}"
        return build_request(url, extra)

    def _json(self, body: bytes) -> list[dict[str, Any]]:
        try:
            entries = json.loads(body)
        except ValueError:
            entries = None
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise LoaderError(
                Reason.NETWORK_ERROR, f"the tree listing from {self.endpoint} is not a JSON list; check HF_ENDPOINT"
            )
        return entries

    def _remote_file(self, entry: dict[str, Any]) -> RemoteFile:
        lfs: dict[str, Any] = entry["lfs"] if isinstance(entry.get("lfs"), dict) else {}
        size = lfs.get("size", entry.get("size"))
        sha256 = lfs.get("oid") if isinstance(lfs.get("oid"), str) else None
        # Outside LFS the entry's oid is the git blob id of the content itself (inside, of the pointer file).
        blob = entry.get("oid") if not lfs and isinstance(entry.get("oid"), str) else None
        return RemoteFile(
            checked_relative(str(entry.get("path", ""))),
            size if isinstance(size, int) else None,
            sha256=sha256,
            git_sha1=blob,
        )

    def _explain(self, err: HttpStatusError) -> LoaderError:
        return explain_hub_error(err, self.item_name, bool(self.token), self.revision)


def explain_hub_error(err: HttpStatusError, item_name: str, has_token: bool, revision: str) -> LoaderError:
    cred = credentials_field(item_name)
    code = f" ({err.error_code})" if err.error_code else ""
    if err.status == 401:
        if has_token:
            return LoaderError(
                Reason.UNAUTHORIZED,
                f"the Hub answered 401{code}: it refused the token; put a valid "
                f"token under key HF_TOKEN in the Secret that {cred} names",
            )
        return LoaderError(
            Reason.UNAUTHORIZED,
            f"the Hub answered 401{code}; set {cred} to a Secret with key "
            "HF_TOKEN that can read this repository (without a token the Hub also answers 401 for a "
            "repository that does not exist: check the name)",
        )
    if err.status == 403:
        return LoaderError(
            Reason.FORBIDDEN,
            f"the Hub answered 403{code}: the token may not read this repository; "
            "for a gated model accept its license on the model page with the token's account, or "
            f"put a token that can read it in the Secret that {cred} names",
        )
    if err.status == 404:
        if err.error_code == "EntryNotFound" or "/resolve/" in err.url:
            return LoaderError(
                Reason.NOT_FOUND,
                f"a listed file is missing at revision {revision}{code}; the revision may have moved, run it again",
            )
        return LoaderError(
            Reason.NOT_FOUND,
            "repository or revision not found (check the name and revision; gated "
            "or private repositories answer 404 without a token)",
        )
    return LoaderError(
        Reason.NETWORK_ERROR,
        f"the Hub answered HTTP {err.status}{code} for {err.url}; check HF_ENDPOINT and the repository name",
    )
