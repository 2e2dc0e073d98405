"""What the benchmark deploys: the sample inventory scaled up, PlacementPools, and N small ModelDeployments.

The inventory is `examples/inventory/nodes.yaml` plus clones of its L4 node (4x L4 each) and H100 node
(8x H100 each) with unique names and addresses, enough L4 GPUs for every replica with a 50% margin, so
placement never runs out of capacity and the measured work is the operator's, not a scheduling backlog.
ModelDeployments alternate Llama 3.2 1B and 3B on one L4 each, spread over up to 50 namespaces.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
INVENTORY = ROOT / "examples" / "inventory"
L4_PRODUCT = "NVIDIA-L4"
H100_PRODUCT = "NVIDIA-H100-80GB-HBM3"
MODELS = ("meta-llama/Llama-3.2-1B-Instruct", "meta-llama/Llama-3.2-3B-Instruct")
MAX_NAMESPACES = 50
OBJECTS_PER_NAMESPACE = 10


def _documents(path: Path) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for doc in yaml.safe_load_all(path.read_text()):
        if isinstance(doc, dict) and isinstance(doc.get("items"), list):
            docs.extend(doc["items"])
        elif isinstance(doc, dict):
            docs.append(doc)
    return docs


def sample_nodes() -> list[dict[str, Any]]:
    return _documents(INVENTORY / "nodes.yaml")


def pools() -> list[dict[str, Any]]:
    """The sample pools without their model caches: the benchmark measures the operator's own work per
    object (a cache claim would be one more child each), comparable across commits."""
    docs = _documents(INVENTORY / "pools.yaml")
    for doc in docs:
        doc["spec"].pop("cache", None)
    return docs


def _clone(template: dict[str, Any], name: str, serial: int) -> dict[str, Any]:
    node = copy.deepcopy(template)
    meta = node["metadata"]
    for key in ("uid", "resourceVersion", "creationTimestamp"):
        meta.pop(key, None)
    meta["name"] = name
    meta["labels"]["kubernetes.io/hostname"] = name
    address = f"10.{100 + serial // 65536}.{serial // 256 % 256}.{serial % 256}"
    node["status"]["addresses"] = [{"address": address, "type": "InternalIP"}, {"address": name, "type": "Hostname"}]
    node["spec"].pop("providerID", None)
    node["spec"].pop("podCIDR", None)
    node["spec"].pop("podCIDRs", None)
    return node


def nodes_for(n: int) -> list[dict[str, Any]]:
    """The sample nodes plus clones: L4 GPUs for 1.5x the N replicas, and one H100 node per 50 objects."""
    base = sample_nodes()
    by_product = {node["metadata"]["labels"].get("nvidia.com/gpu.product"): node for node in base}
    l4_nodes = math.ceil(n * 1.5 / 4)
    h100_nodes = max(1, n // 50)
    clones = [_clone(by_product[L4_PRODUCT], f"bench-l4-{i:04d}", i) for i in range(l4_nodes)]
    clones += [_clone(by_product[H100_PRODUCT], f"bench-h100-{i:04d}", 10_000 + i) for i in range(h100_nodes)]
    return base + clones


def namespaces_for(n: int) -> list[str]:
    count = max(1, min(MAX_NAMESPACES, n // OBJECTS_PER_NAMESPACE))
    return [f"team-{i:02d}" for i in range(count)]


def model_deployments(n: int) -> list[dict[str, Any]]:
    """N ModelDeployments of one replica on one L4 each, round-robin over the namespaces."""
    namespaces = namespaces_for(n)
    out = []
    for i in range(n):
        uri = MODELS[i % len(MODELS)]
        size = "1b" if "1B" in uri else "3b"
        out.append(
            {
                "apiVersion": "genaiops.dev/v1alpha1",
                "kind": "ModelDeployment",
                "metadata": {"name": f"llama-{size}-{i:04d}", "namespace": namespaces[i % len(namespaces)]},
                "spec": {
                    "model": {"uri": f"hf://{uri}"},
                    "serving": {"maxContextLength": 4096, "maxConcurrentSequences": 8},
                    "resources": {"gpu": {"types": ["nvidia-l4"]}},
                    "replicas": 1,
                },
            }
        )
    return out


def warm_up() -> dict[str, Any]:
    """One ModelDeployment created before the measured ones, in a namespace of its own."""
    manifest = model_deployments(1)[0]
    manifest["metadata"] = {"name": "warm-up", "namespace": "bench-warm-up"}
    return manifest
