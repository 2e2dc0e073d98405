"""An in-process Kubernetes API emulator with the fidelity an operator needs.

Built on kmock's KubernetesEmulator; adds resourceVersion/generation/uid bookkeeping, all
PATCH flavours, status and scale subresources, selectors, resumable watches, owner-reference
garbage collection, CRD installation, fault injection (API requests, init containers), and
simulated Deployment and StatefulSet controllers, a claim binder and a GPU-aware scheduler.
Start it with :class:`EmulatedCluster` (async) or :meth:`EmulatedCluster.in_thread` (sync).
"""

from genai_emulator.cluster import DEFAULT_TOKEN, EmulatedCluster
from genai_emulator.emulator import ClusterEmulator
from genai_emulator.errors import ApiError
from genai_emulator.faults import FaultRule
from genai_emulator.init_containers import InitRule, KubeletFaults
from genai_emulator.inventory import load_nodes, parse_nodes
from genai_emulator.kubeconfig import write_kubeconfig
from genai_emulator.resources import Registry, ResourceSpec, ScaleSpec, default_resources
from genai_emulator.routing import RequestRecord
from genai_emulator.threaded import ThreadedCluster

__all__ = [
    "DEFAULT_TOKEN",
    "ApiError",
    "ClusterEmulator",
    "EmulatedCluster",
    "FaultRule",
    "InitRule",
    "KubeletFaults",
    "Registry",
    "RequestRecord",
    "ResourceSpec",
    "ScaleSpec",
    "ThreadedCluster",
    "default_resources",
    "load_nodes",
    "parse_nodes",
    "write_kubeconfig",
]
