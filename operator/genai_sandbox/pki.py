"""Certificates and keys for a local control plane, made with the openssl command.

One CA signs the apiserver's serving certificate and the admin client certificate (O=system:masters);
a separate key pair signs service-account tokens. EC P-256 keys: generated in milliseconds, accepted by
every component.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from genai_sandbox.errors import SandboxError

# A config with no default extensions, so each certificate carries exactly the ones passed here.
_MINIMAL_CONFIG = "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\n"


@dataclass(frozen=True)
class Pki:
    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    admin_cert: Path
    admin_key: Path
    service_account_key: Path
    service_account_public_key: Path


def _openssl(*args: str) -> None:
    result = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SandboxError(f"openssl {args[0]} failed: {result.stderr.strip()}")


def _key(path: Path) -> Path:
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path))
    path.chmod(0o600)
    return path


def _certificate(directory: Path, name: str, subject: str, extensions: list[str], *, ca: Pki | None) -> Path:
    key = _key(directory / f"{name}.key")
    cert = directory / f"{name}.crt"
    config = directory / "openssl.cnf"
    args = [
        "req",
        "-x509",
        "-new",
        "-config",
        str(config),
        "-key",
        str(key),
        "-subj",
        subject,
        "-days",
        "3650",
        "-out",
        str(cert),
    ]
    if ca is not None:
        args += ["-CA", str(ca.ca_cert), "-CAkey", str(ca.ca_key)]
    for extension in extensions:
        args += ["-addext", extension]
    _openssl(*args)
    return cert


def make_pki(directory: Path, *, server_addresses: list[str]) -> Pki:
    """Writes a CA, the apiserver's serving pair (valid for `server_addresses` and the in-cluster names),
    an admin client pair and the service-account signing pair into `directory`."""
    if shutil.which("openssl") is None:
        raise SandboxError("the openssl command is missing: install it (apt-get install openssl)")
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "openssl.cnf").write_text(_MINIMAL_CONFIG)
    _certificate(
        directory,
        "ca",
        "/CN=genai-sandbox-ca",
        ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign"],
        ca=None,
    )
    ca = Pki(directory / "ca.crt", directory / "ca.key", *(Path() for _ in range(6)))
    names = [
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    ]
    alt = ",".join([f"DNS:{n}" for n in names] + [f"IP:{a}" for a in server_addresses])
    leaf = ["basicConstraints=critical,CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment"]
    _certificate(
        directory,
        "apiserver",
        "/CN=kube-apiserver",
        [*leaf, "extendedKeyUsage=serverAuth", f"subjectAltName={alt}"],
        ca=ca,
    )
    _certificate(
        directory, "admin", "/O=system:masters/CN=kubernetes-admin", [*leaf, "extendedKeyUsage=clientAuth"], ca=ca
    )
    sa_key = _key(directory / "service-account.key")
    _openssl("pkey", "-in", str(sa_key), "-pubout", "-out", str(directory / "service-account.pub"))
    return Pki(
        ca_cert=directory / "ca.crt",
        ca_key=directory / "ca.key",
        server_cert=directory / "apiserver.crt",
        server_key=directory / "apiserver.key",
        admin_cert=directory / "admin.crt",
        admin_key=directory / "admin.key",
        service_account_key=sa_key,
        service_account_public_key=directory / "service-account.pub",
    )
