"""A kubeconfig that points clients at the emulator."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

CONTEXT = "genai-emulator"


def write_kubeconfig(path: str | os.PathLike[str], server: str, token: str, namespace: str = "default") -> Path:
    """Plain http and a dummy bearer token: Kopf refuses a user without any credentials."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {"server": server}}],
        "users": [{"name": CONTEXT, "user": {"token": token}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": namespace}}],
        "current-context": CONTEXT,
        "preferences": {},
    }
    target = Path(path)
    target.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    target.chmod(0o600)
    return target
