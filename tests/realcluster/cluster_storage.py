"""Storage for the pools' model caches: a tiny provisioner of ReadWriteMany volumes for Shared caches (class
standard-rwx, as the sample cloud-l4 pool asks; one volume per claim, as an NFS provisioner would make) and local
volumes pinned to each edge node for NodeLocal caches (class local-storage, WaitForFirstConsumer, as a static local
provisioner would leave them). The controller-manager's persistentvolume-binder binds the claims; kube-scheduler's
VolumeBinding plugin picks the local volume of the node a pod lands on.
"""

from __future__ import annotations

import threading

from genai_sandbox import ControlPlane

SHARED_CLASS, LOCAL_CLASS = "standard-rwx", "local-storage"
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


class SharedVolumeProvisioner:
    """Makes a ReadWriteMany volume for each pending standard-rwx claim, sized as asked and pre-bound to it."""

    def __init__(self, plane: ControlPlane) -> None:
        self.plane = plane
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="shared-volume-provisioner", daemon=True)

    def __enter__(self) -> SharedVolumeProvisioner:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(5)

    def _run(self) -> None:
        while not self.stopped.wait(0.3):
            try:
                self._provision()
            except OSError:  # the apiserver is being restarted by a test: try again in a moment
                continue

    def _provision(self) -> None:
        status, claims = self.plane.api.request("GET", "/api/v1/persistentvolumeclaims")
        if status != 200 or not isinstance(claims, dict):
            return  # a restarting apiserver's 503: next round
        for claim in claims.get("items", []):
            spec, meta = claim["spec"], claim["metadata"]
            if spec.get("storageClassName") != SHARED_CLASS or spec.get("volumeName"):
                continue
            name = f"pvc-{meta['uid']}"
            volume = _volume(
                name,
                SHARED_CLASS,
                "ReadWriteMany",
                spec["resources"]["requests"]["storage"],
                nfs={"server": "nfs.storage.invalid", "path": f"/models/{meta['uid']}"},
            )
            volume["spec"]["claimRef"] = {"namespace": meta["namespace"], "name": meta["name"], "uid": meta["uid"]}
            self.plane.api.request("POST", "/api/v1/persistentvolumes", volume)
