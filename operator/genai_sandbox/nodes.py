"""Fake nodes for kwok from an inventory file: the project's `kubectl get nodes -o yaml` lists
(examples/inventory/nodes.yaml), so the same inventory runs on the emulator and on the real control plane.

What a live cluster stamped on the objects (uid, resourceVersion, creationTimestamp, heartbeat conditions) is
dropped; labels, taints, capacity and allocatable (GPU extended resources included) are kept. `copies` makes a
larger inventory out of a small one for the benchmark.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

KWOK_ANNOTATION = "kwok.x-k8s.io/node"
_SERVER_SET = ("uid", "resourceVersion", "creationTimestamp", "managedFields", "generation", "selfLink")


def read_inventory(path: Path) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        if not isinstance(doc, dict):
            continue
        items = doc.get("items") if doc.get("kind", "").endswith("List") else [doc]
        nodes.extend(item for item in items or [] if item.get("kind") == "Node")
    return nodes


def fake_node(node: dict[str, Any], *, name: str | None = None) -> dict[str, Any]:
    node = copy.deepcopy(node)
    meta = node.setdefault("metadata", {})
    for key in _SERVER_SET:
        meta.pop(key, None)
    if name is not None:
        meta["name"] = name
        meta.setdefault("labels", {})["kubernetes.io/hostname"] = name
    meta.setdefault("annotations", {})[KWOK_ANNOTATION] = "fake"
    spec = node.setdefault("spec", {})
    # kwok hands out pod IPs from the node's pod CIDR; copies of one node would share it.
    spec.pop("podCIDR", None)
    spec.pop("podCIDRs", None)
    spec.pop("providerID", None)
    status = node.setdefault("status", {})
    for key in ("conditions", "daemonEndpoints", "images", "volumesAttached", "volumesInUse"):
        status.pop(key, None)
    node["apiVersion"], node["kind"] = "v1", "Node"
    return node


def fake_nodes(nodes: Iterable[dict[str, Any]], copies: int = 1) -> list[dict[str, Any]]:
    """Every node of the inventory, `copies` times (the copies get a `-cN` suffix)."""
    result: list[dict[str, Any]] = []
    for index in range(copies):
        for node in nodes:
            base = node["metadata"]["name"]
            result.append(fake_node(node, name=base if index == 0 else f"{base}-c{index}"))
    return result
