"""Node objects as `kubectl get node -o yaml` prints them, with the labels real device plugins and edge
frameworks set (NVIDIA GPU Feature Discovery, the ROCm node labeller, KubeEdge, OpenYurt), for tests."""

from __future__ import annotations

from typing import Any

from genai_operator.placement.inventory import NodeView, node_view

GIB_KI = 1024 * 1024


def node(
    name: str,
    labels: dict[str, str] | None = None,
    *,
    gpus: tuple[str, int] | None = None,
    allocatable_gpus: int | None = None,
    memory_gib: int = 64,
    cpus: int = 16,
    arch: str = "amd64",
    ready: str = "True",
    unschedulable: bool = False,
    taints: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """A Node; `gpus` is (resource, capacity) and `allocatable_gpus` may be lower (an unhealthy device)."""
    capacity: dict[str, str] = {"cpu": str(cpus), "memory": f"{memory_gib * GIB_KI}Ki", "pods": "110"}
    allocatable: dict[str, str] = {
        "cpu": f"{cpus * 1000 - 250}m",
        "memory": f"{memory_gib * GIB_KI - 512 * 1024}Ki",
        "pods": "110",
        "ephemeral-storage": "449395035627",
    }
    if gpus is not None:
        capacity[gpus[0]] = str(gpus[1])
        allocatable[gpus[0]] = str(gpus[1] if allocatable_gpus is None else allocatable_gpus)
    spec: dict[str, Any] = {"podCIDR": "10.244.1.0/24"}
    if taints:
        spec["taints"] = taints
    if unschedulable:
        spec["unschedulable"] = True
    all_labels = {
        "beta.kubernetes.io/arch": arch,
        "kubernetes.io/arch": arch,
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        **(labels or {}),
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": all_labels, "annotations": {"node.alpha.kubernetes.io/ttl": "0"}},
        "spec": spec,
        "status": {
            "allocatable": allocatable,
            "capacity": capacity,
            "conditions": [
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"},
                {"type": "Ready", "status": ready, "reason": "KubeletReady" if ready == "True" else "NodeNotReady"},
            ],
            "nodeInfo": {"architecture": arch, "kubeletVersion": "v1.31.2", "operatingSystem": "linux"},
        },
    }


def gfd(product: str, memory_mib: int, count: int, **extra: str) -> dict[str, str]:
    """GPU Feature Discovery labels of a node with `count` GPUs."""
    return {
        "nvidia.com/gpu.present": "true",
        "nvidia.com/gpu.product": product,
        "nvidia.com/gpu.memory": str(memory_mib),
        "nvidia.com/gpu.count": str(count),
        "nvidia.com/gpu.replicas": "1",
        "nvidia.com/gpu.sharing-strategy": "none",
        "nvidia.com/mig.capable": "false",
        **extra,
    }


def nvidia_node(name: str, product: str, memory_mib: int, count: int, **kw: Any) -> dict[str, Any]:
    labels = {**gfd(product, memory_mib, count), **kw.pop("labels", {})}
    taints = kw.pop("taints", [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}])
    return node(name, labels, gpus=("nvidia.com/gpu", count), taints=taints, **kw)


def time_sliced_node(name: str, product: str, memory_mib: int, count: int, slices: int) -> dict[str, Any]:
    """GFD with time-slicing (renameByDefault false): `-SHARED` product, count slices per GPU advertised."""
    labels = gfd(f"{product}-SHARED", memory_mib, count)
    labels |= {"nvidia.com/gpu.replicas": str(slices), "nvidia.com/gpu.sharing-strategy": "time-slicing"}
    return node(name, labels, gpus=("nvidia.com/gpu", count * slices))


def amd_node(name: str, product: str, vram: str, count: int, *, beta: bool = False) -> dict[str, Any]:
    """ROCm device plugin (`amd.com/gpu`) and node labeller labels (`beta.` on older labellers)."""
    prefix = "beta.amd.com/gpu" if beta else "amd.com/gpu"
    labels = {
        f"{prefix}.product-name": product,
        f"{prefix}.vram": vram,
        f"{prefix}.family": "AI",
        f"{prefix}.device-id": "74a1",
        f"{prefix}.cu-count": "304",
    }
    taints = [{"key": "amd.com/gpu", "value": "present", "effect": "NoSchedule"}]
    return node(name, labels, gpus=("amd.com/gpu", count), taints=taints, memory_gib=1850)


def kubeedge_orin(name: str, memory_mib: int, *, memory_gib: int = 64) -> dict[str, Any]:
    """A Jetson module joined through KubeEdge: edge role label and its NoSchedule taint."""
    labels = {**gfd("Orin", memory_mib, 1), "node-role.kubernetes.io/edge": ""}
    taints = [{"key": "node-role.kubernetes.io/edge", "effect": "NoSchedule"}]
    return node(name, labels, gpus=("nvidia.com/gpu", 1), taints=taints, arch="arm64", memory_gib=memory_gib, cpus=12)


def openyurt_node(name: str, nodepool: str | None, *, memory_gib: int = 16, **kw: Any) -> dict[str, Any]:
    labels = {"openyurt.io/is-edge-worker": "true", **({"apps.openyurt.io/nodepool": nodepool} if nodepool else {})}
    return node(name, {**labels, **kw.pop("labels", {})}, memory_gib=memory_gib, cpus=8, **kw)


def node_list(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "List", "items": list(nodes), "metadata": {"resourceVersion": ""}}


def l4(name: str, count: int = 4, **kw: Any) -> NodeView:
    """An L4 node as placement sees it (GFD labels, `count` GPUs)."""
    return node_view(nvidia_node(name, "NVIDIA-L4", 23034, count, **kw))
