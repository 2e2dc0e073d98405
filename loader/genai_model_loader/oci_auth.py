"""Registry authentication as the distribution spec does it: requests go out anonymously, and a 401's
`WWW-Authenticate` challenge is answered with a Bearer token from the realm it names (scope
repository:<repo>:pull, asked with HTTP Basic credentials when there are some) or, for a Basic challenge, with the
credentials themselves. Credentials come from the docker config JSON at REGISTRY_AUTH_FILE (the operator mounts a
kubernetes.io/dockerconfigjson Secret's .dockerconfigjson there): `auths[<registry>]` with `auth` (base64 of
user:password) or `username` and `password`. An `identitytoken` (an OAuth2 refresh token) is not supported.
Neither credentials nor tokens are ever logged or put into a message."""

from __future__ import annotations

import base64
import binascii
import json
import re
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from genai_model_loader.errors import LoaderError, Reason, credentials_field
from genai_model_loader.http_transport import HttpStatusError, build_request, read_body
from genai_model_loader.retry import RetryPolicy
from genai_model_loader.source_uris import DOCKER_HUB, DOCKER_HUB_ALIASES, OciRef

_PARAM = re.compile(r'([A-Za-z_]+)\s*=\s*"([^"]*)"')


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)

    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()


class ChallengeError(LoaderError):
    """A 401 carrying a challenge: answered once, after which it is the final error it already is."""

    def __init__(self, final: LoaderError, challenge: str) -> None:
        super().__init__(final.reason, final.detail)
        self.challenge = challenge


def load_credentials(env: Mapping[str, str], registry: str) -> tuple[Credentials | None, str]:
    """The credentials for `registry`, or None and why there are none (for the message of a 401)."""
    path = env.get("REGISTRY_AUTH_FILE")
    if not path:
        return None, "no credentials were given: REGISTRY_AUTH_FILE is not set"
    if not Path(path).exists():
        # The operator mounts the key optionally where only adapters come from a registry (the model's Secret
        # may be a Hub token): no file is no credentials, and the pull is anonymous.
        return None, f"no credentials were given: {path} does not exist (the Secret has no .dockerconfigjson key)"
    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise _bad_file(path, f"cannot be read ({err.strerror or err})") from None
    except ValueError:
        raise _bad_file(path, "is not JSON") from None
    auths = data.get("auths") if isinstance(data, dict) else None
    if not isinstance(auths, dict):
        raise _bad_file(path, "has no auths object")
    entry = next((value for key, value in auths.items() if _registry_of(str(key)) == registry), None)
    if not isinstance(entry, dict):
        return None, f"{path} has no entry for {registry} (it has {', '.join(sorted(map(str, auths))) or 'none'})"
    if isinstance(entry.get("auth"), str) and entry["auth"]:
        try:
            user, colon, password = base64.b64decode(entry["auth"], validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, colon, password = "", "", ""
        if not colon:
            raise _bad_file(path, f"has an auth for {registry} that is not base64 of user:password")
        return Credentials(user, password), ""
    if isinstance(entry.get("username"), str) and isinstance(entry.get("password"), str):
        return Credentials(entry["username"], entry["password"]), ""
    if entry.get("identitytoken"):
        return (
            None,
            f"the entry for {registry} in {path} has only an identitytoken, which the loader does not "
            "support: put username and password in the Secret",
        )
    return None, f"the entry for {registry} in {path} has neither auth nor username and password"


class RegistryAuth:
    """The Authorization header for the registry's requests, None until a challenge asked for one."""

    def __init__(
        self,
        ref: OciRef,
        credentials: Credentials | None,
        plain_http: frozenset[str],
        policy: RetryPolicy,
        item_name: str,
        max_bytes: int,
    ) -> None:
        self.ref = ref
        self.credentials = credentials
        self.plain_http = plain_http
        self.policy = policy
        self.item_name = item_name
        self.max_bytes = max_bytes
        self.header: str | None = None

    def answer(self, challenged: ChallengeError) -> None:
        """Set the header the challenge asks for; raises `challenged` itself when it cannot be answered."""
        scheme, _, rest = challenged.challenge.strip().partition(" ")
        params = {key.lower(): value for key, value in _PARAM.findall(rest)}
        if scheme.lower() == "basic" and self.credentials:
            self.header = self.credentials.basic()
        elif scheme.lower() == "bearer" and params.get("realm", "").startswith(("https://", "http://")):
            self.header = f"Bearer {self._token(params, challenged)}"
        else:
            raise challenged

    def _token(self, params: dict[str, str], challenged: ChallengeError) -> str:
        realm = urlsplit(params["realm"])
        query = {"service": params["service"]} if params.get("service") else {}
        query["scope"] = f"repository:{self.ref.repository}:pull"
        url = f"{params['realm']}{'&' if realm.query else '?'}{urlencode(query)}"
        headers: dict[str, str] = {}
        if self.credentials:
            # Never a password in clear text to a host the user did not say speaks plain HTTP.
            if realm.scheme != "https" and realm.netloc.lower() not in self.plain_http:
                raise LoaderError(
                    Reason.UNAUTHORIZED,
                    f"the registry asks for credentials to be sent to the plain "
                    f"HTTP token service {realm.netloc}; refused (list it in OCI_PLAIN_HTTP_REGISTRIES "
                    "if that is intended)",
                )
            headers["Authorization"] = self.credentials.basic()
        hint = f"check that the pod reaches the token service {realm.netloc} (DNS, proxy, NetworkPolicy egress)"

        def request(extra: dict[str, str]) -> urllib.request.Request:
            return build_request(url, {**headers, **extra})

        try:
            body, _, _ = read_body(request, self.policy, f"getting a token from {realm.netloc}", hint, self.max_bytes)
        except HttpStatusError as err:
            if err.status in (401, 403) and not self.credentials:
                raise challenged from None
            if err.status in (401, 403):
                raise LoaderError(
                    Reason.UNAUTHORIZED if err.status == 401 else Reason.FORBIDDEN,
                    f"the token service {realm.netloc} answered {err.status}: the credentials were "
                    f"refused; check the entry for {self.ref.registry} in the Secret that "
                    f"{credentials_field(self.item_name)} names",
                ) from None
            raise LoaderError(
                Reason.NETWORK_ERROR, f"the token service {realm.netloc} answered HTTP {err.status}; {hint}"
            ) from None
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        token = (answer.get("token") or answer.get("access_token")) if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise LoaderError(Reason.NETWORK_ERROR, f"the token service {realm.netloc} answered without a token")
        return token


def _registry_of(key: str) -> str:
    """An auths key as docker reads it: `ghcr.io`, `https://ghcr.io` and `https://index.docker.io/v1/` alike."""
    host = key.split("://", 1)[-1].split("/", 1)[0].lower()
    return DOCKER_HUB if host in DOCKER_HUB_ALIASES else host


def _bad_file(path: str, problem: str) -> LoaderError:
    return LoaderError(
        Reason.UNAUTHORIZED,
        f"the registry credentials at {path} (REGISTRY_AUTH_FILE) {problem}; it "
        "must be the .dockerconfigjson of a kubernetes.io/dockerconfigjson Secret",
    )
