"""Storage for the pools' model caches on a cluster with no provisioner: ReadWriteMany volumes for Shared caches
(class standard-rwx, as the sample cloud-l4 pool asks) and local volumes pinned to each edge node for NodeLocal
caches (class local-storage, WaitForFirstConsumer, as a static local provisioner would leave them). The
controller-manager's persistentvolume-binder binds claims to them; kube-scheduler's VolumeBinding plugin picks
the local volume of the node a pod lands on.
"""

from __future__ import annotations

from genai_sandbox import ControlPlane

SHARED_CLASS, LOCAL_CLASS = "standard-rwx", "local-storage"
SHARED_VOLUMES = 12
LOCAL_VOLUMES_PER_NODE = 3


def _volume(name: str, storage_class: str, access: str, size: str, **source: object) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {
            "storageClassName": storage_class,
            "accessModes": [access],
            "capacity": {"storage": size},
            "persistentVolumeReclaimPolicy": "Delete",
            **source,
        },
    }


def add_cache_volumes(plane: ControlPlane) -> None:
    plane.api.must(
        "POST",
        "/apis/storage.k8s.io/v1/storageclasses",
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": LOCAL_CLASS},
            "provisioner": "kubernetes.io/no-provisioner",
            "volumeBindingMode": "WaitForFirstConsumer",
        },
        accept=(201, 409),
    )
    for index in range(SHARED_VOLUMES):
        plane.api.must(
            "POST",
            "/api/v1/persistentvolumes",
            _volume(
                f"shared-{index}",
                SHARED_CLASS,
                "ReadWriteMany",
                "2Ti",
                nfs={"server": "nfs.storage.invalid", "path": f"/models/{index}"},
            ),
            accept=(201, 409),
        )
    _, nodes = plane.api.request("GET", "/api/v1/nodes?labelSelector=node-role.kubernetes.io%2Fedge")
    for node in nodes["items"]:
        name = node["metadata"]["name"]
        for index in range(LOCAL_VOLUMES_PER_NODE):
            plane.api.must(
                "POST",
                "/api/v1/persistentvolumes",
                _volume(
                    f"local-{name}-{index}"[:63],
                    LOCAL_CLASS,
                    "ReadWriteOnce",
                    "200Gi",
                    local={"path": f"/mnt/models/{index}"},
                    nodeAffinity={
                        "required": {
                            "nodeSelectorTerms": [
                                {
                                    "matchExpressions": [
                                        {"key": "kubernetes.io/hostname", "operator": "In", "values": [name]}
                                    ]
                                }
                            ]
                        }
                    },
                ),
                accept=(201, 409),
            )
