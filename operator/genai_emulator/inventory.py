"""Node inventories: what `kubectl get nodes -o yaml` prints, loaded as Node dicts."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import yaml

from genai_emulator.crds import YAML_LOADER, iter_yaml_documents


def load_nodes(*paths: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every Node in the files (a `List`, one Node, or a multi-document stream)."""
    return _only_nodes(iter_yaml_documents(paths))


def parse_nodes(text: str) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for doc in yaml.load_all(text, Loader=YAML_LOADER):
        if isinstance(doc, dict) and isinstance(doc.get("items"), list):
            docs.extend(item for item in doc["items"] if isinstance(item, dict))
        elif isinstance(doc, dict):
            docs.append(doc)
    return _only_nodes(docs)


def _only_nodes(docs: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    nodes = []
    for doc in docs:
        if doc.get("kind") != "Node":
            name = (doc.get("metadata") or {}).get("name")
            raise ValueError(f"not a Node: kind={doc.get('kind')!r} name={name!r}")
        nodes.append(doc)
    return nodes
