"""A real Kubernetes control plane as local processes: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and kwok, built from Go modules by scripts/control-plane/build.sh.

The fourth test tier (tests/realcluster/) and `bench/run.py --cluster real` start one with `ControlPlane`;
people start one with `genai-sandbox up`. Nothing here imports the operator: the sandbox is a cluster, not a
part of the product.
"""

from genai_sandbox.cluster import ControlPlane
from genai_sandbox.components import ControlPlaneOptions
from genai_sandbox.errors import SandboxError

__all__ = ["ControlPlane", "ControlPlaneOptions", "SandboxError"]
