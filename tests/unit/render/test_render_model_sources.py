"""Rendered pods for every model source (hf, hf GGUF pick and file, s3, gs, oci pulled or as an image volume,
pvc, file), every pool
cache mode (None, Shared, Shared with an existing claim, NodeLocal) and an adapter set: golden files in
tests/golden/sources/ (UPDATE_GOLDEN=1 regenerates them), strict schema validation of every object, and
the properties the goldens alone would not make obvious (loader first and restricted, secrets only by
reference, cache keys follow the revision, claims sized by keepRevisions, adapters touch only the
Deployment)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from genai_operator.formats.quantity import parse_quantity
from genai_operator.settings import Settings
from support.golden import check_golden
from support.paths import GOLDEN
from support.render_fixtures import by_kind, only, render_on_pool

GOLDEN = GOLDEN / "sources"
LLAMA = "hf://meta-llama/Llama-3.1-8B-Instruct@0e9e39f249a16976918f6564b8830bc894c89659"
GGUF_REPO = "hf://Qwen/Qwen2.5-1.5B-Instruct-GGUF"

GPU_POOL: dict[str, Any] = {
    "tier": "Cloud",
    "nodeSelector": {"nvidia.com/gpu.product": "NVIDIA-L4"},
    "gpu": {"type": "nvidia-l4"},
}
CPU_POOL: dict[str, Any] = {"tier": "Edge", "nodeSelector": {"node-role.kubernetes.io/edge": ""}}
OCI_MODEL: dict[str, Any] = {
    "model": {
        "uri": "oci://registry.example.com/models/llama-3.1-8b:v1",
        "parameters": "8B",
        "credentialsSecret": "registry",
    },
    "engine": "VLLM",
}

CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # name: (ModelDeployment spec, PlacementPool spec)
    "hf-emptydir": ({"model": {"uri": LLAMA, "credentialsSecret": "hf-token"}, "engine": "VLLM"}, GPU_POOL),
    "hf-shared": (
        {"model": {"uri": LLAMA}, "engine": "VLLM", "replicas": 3},
        {**GPU_POOL, "cache": {"mode": "Shared", "storageClassName": "nfs-rwx", "keepRevisions": 3}},
    ),
    "hf-shared-existing": (
        {"model": {"uri": LLAMA}, "engine": "VLLM"},
        {**GPU_POOL, "cache": {"mode": "Shared", "existingClaim": "team-models"}},
    ),
    "hf-nodelocal": (
        {"model": {"uri": LLAMA}, "engine": "VLLM", "replicas": 2},
        {**GPU_POOL, "cache": {"mode": "NodeLocal", "storageClassName": "local-storage", "size": "100Gi"}},
    ),
    "gguf-type": (
        {"model": {"uri": GGUF_REPO}, "engine": "LlamaCpp", "quantization": {"method": "GGUF", "ggufType": "Q5_K_M"}},
        CPU_POOL,
    ),
    "gguf-file": (
        {"model": {"uri": f"{GGUF_REPO}/qwen2.5-1.5b-instruct-q4_k_m.gguf"}, "engine": "LlamaCpp"},
        {**CPU_POOL, "cache": {"mode": "NodeLocal", "storageClassName": "local-storage"}},
    ),
    "s3": (
        {
            "model": {
                "uri": "s3://models/llama-3.1-8b-instruct",
                "parameters": "8B",
                "credentialsSecret": "aws-models",
            },
            "engine": "VLLM",
        },
        GPU_POOL,
    ),
    "gs-tgi": (
        {
            "model": {"uri": "gs://models/mistral-7b-instruct", "parameters": "7B", "credentialsSecret": "gcs-hmac"},
            "engine": "TGI",
        },
        GPU_POOL,
    ),
    "oci": (OCI_MODEL, GPU_POOL),
    "oci-image-volume": (OCI_MODEL, GPU_POOL),  # the same model, mounted as an image volume
    "pvc": ({"model": {"uri": "pvc://weights/llama-3.1-8b", "parameters": "8B"}, "engine": "VLLM"}, GPU_POOL),
    "file-edge": (
        {"model": {"uri": "file:///opt/models/qwen2.5-1.5b-q4_k_m.gguf", "parameters": "1.5B"}, "engine": "LlamaCpp"},
        CPU_POOL,
    ),
    "adapters": (
        {
            "model": {"uri": LLAMA, "credentialsSecret": "hf-token"},
            "engine": "VLLM",
            "serving": {"maxContextLength": 4096, "maxConcurrentSequences": 4, "maxLoraRank": 32},
            "adapters": [
                {"name": "sql", "uri": "hf://acme/llama-sql-lora@v2"},
                {"name": "support", "uri": "s3://acme-adapters/support"},
                {"name": "legal", "uri": "pvc://adapters/legal"},
                {"name": "vision", "uri": "oci://ghcr.io/acme/vision-lora:v1"},
            ],
        },
        {**GPU_POOL, "cache": {"mode": "Shared"}},
    ),
}


# Operator settings other than the defaults, per case.
CASE_SETTINGS = {
    "oci-image-volume": Settings(oci_models="ImageVolume"),
    "file-edge": Settings(host_path_prefixes=("/opt/models",)),
}


def workload(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] in ("Deployment", "StatefulSet"))


def loader_items(obj: dict[str, Any]) -> list[dict[str, Any]]:
    init = obj["spec"]["template"]["spec"]["initContainers"][0]
    assert init["args"][0] == "--plan"
    items: list[dict[str, Any]] = json.loads(init["args"][1])
    return items


@pytest.mark.parametrize("case", sorted(CASES))
def test_rendered_source_matches_golden(case: str) -> None:
    rendered = yaml.safe_dump_all(render_on_pool(*CASES[case], settings=CASE_SETTINGS.get(case)), sort_keys=False)
    check_golden(GOLDEN / f"{case}.yaml", rendered)


def test_no_stale_golden_files() -> None:
    assert {p.stem for p in GOLDEN.glob("*.yaml")} == set(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_loader_runs_first_restricted_and_credentials_stay_references(case: str) -> None:
    objects = render_on_pool(*CASES[case], settings=CASE_SETTINGS.get(case))
    pod = workload(objects)["spec"]["template"]["spec"]
    init = pod["initContainers"][0]
    assert init["name"] == "model-loader" and len(pod["initContainers"]) == 1
    security = init["securityContext"]
    assert security["runAsNonRoot"] and not security["allowPrivilegeEscalation"]
    assert security["readOnlyRootFilesystem"] and security["capabilities"] == {"drop": ["ALL"]}
    assert init["terminationMessagePolicy"] == "FallbackToLogsOnError"
    text = json.dumps(objects)
    secret = CASES[case][0]["model"].get("credentialsSecret")
    for container in pod["containers"]:  # the engine never sees a credential
        assert "secretKeyRef" not in json.dumps(container) and "secretRef" not in json.dumps(container)
    if secret and CASES[case][0]["model"]["uri"].startswith("hf://"):
        token = next(e for e in init["env"] if e["name"] == "HF_TOKEN")
        assert token["valueFrom"]["secretKeyRef"] == {"name": secret, "key": "HF_TOKEN", "optional": False}
    if secret and CASES[case][0]["model"]["uri"].startswith(("s3://", "gs://")):
        assert init["envFrom"] == [{"secretRef": {"name": secret, "optional": False}}]
    assert not by_kind(objects, "Secret") and '"stringData"' not in text  # nothing secret is ever rendered


def test_mounted_sources_are_verified_not_copied() -> None:
    for case, path in (
        ("pvc", "/model-source/llama-3.1-8b"),
        ("file-edge", "/opt/models/qwen2.5-1.5b-q4_k_m.gguf"),
        ("oci-image-volume", "/model-source"),
    ):
        objects = render_on_pool(*CASES[case], settings=CASE_SETTINGS.get(case))
        assert loader_items(workload(objects))[0] == {
            "name": "model",
            "uri": CASES[case][0]["model"]["uri"],
            "dest": path,
            "mode": "verify",
        }


def test_cache_key_follows_the_revision() -> None:
    spec, pool = CASES["hf-shared"]
    first = loader_items(workload(render_on_pool(spec, pool)))[0]
    moved = {**spec, "model": {"uri": LLAMA.split("@")[0] + "@main"}}
    second = loader_items(workload(render_on_pool(moved, pool)))[0]
    assert first["dest"] != second["dest"] and first["keep"] == 3
    assert "keep" not in loader_items(workload(render_on_pool(*CASES["hf-emptydir"])))[0]  # nothing to prune


def test_shared_claim_is_sized_by_kept_revisions_and_mounted_read_only_by_the_engine() -> None:
    objects = render_on_pool(*CASES["hf-shared"])
    claim = only(objects, "PersistentVolumeClaim")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"] and claim["spec"]["storageClassName"] == "nfs-rwx"
    size = parse_quantity(claim["spec"]["resources"]["requests"]["storage"])
    assert size >= 3 * 16 * 10**9  # three BF16 revisions of an 8B model
    pod = workload(objects)["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "model-cache")
    assert volume == {"name": "model-cache", "persistentVolumeClaim": {"claimName": claim["metadata"]["name"]}}
    engine_mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "model-cache")
    assert engine_mount["readOnly"] is True
    assert "ephemeral-storage" in pod["containers"][0]["resources"]["requests"]
    assert parse_quantity(pod["containers"][0]["resources"]["requests"]["ephemeral-storage"]) < 4 * 2**30
    existing = render_on_pool(*CASES["hf-shared-existing"])
    assert not by_kind(existing, "PersistentVolumeClaim")
    volume = next(v for v in workload(existing)["spec"]["template"]["spec"]["volumes"] if v["name"] == "model-cache")
    assert volume["persistentVolumeClaim"]["claimName"] == "team-models"


def test_node_local_cache_is_a_statefulset_with_a_claim_per_replica() -> None:
    objects = render_on_pool(*CASES["hf-nodelocal"])
    sts = only(objects, "StatefulSet")
    assert not by_kind(objects, "Deployment") and not by_kind(objects, "PersistentVolumeClaim")
    template = sts["spec"]["volumeClaimTemplates"][0]
    assert template["metadata"]["name"] == "model-cache"
    assert template["spec"]["storageClassName"] == "local-storage"
    assert template["spec"]["resources"]["requests"]["storage"] == "100Gi"
    assert sts["spec"]["replicas"] == 2 and sts["spec"]["podManagementPolicy"] == "Parallel"
    volumes = {v["name"] for v in sts["spec"]["template"]["spec"]["volumes"]}
    assert "model-cache" not in volumes  # the claim template provides it
    assert not any("hostPath" in v for v in sts["spec"]["template"]["spec"]["volumes"])


def test_emptydir_cache_counts_the_download_against_the_node_disk() -> None:
    pod = workload(render_on_pool(*CASES["hf-emptydir"]))["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "model-cache")
    limit = parse_quantity(volume["emptyDir"]["sizeLimit"])
    request = parse_quantity(pod["containers"][0]["resources"]["requests"]["ephemeral-storage"])
    assert limit >= 16 * 10**9 and request >= 16 * 10**9


def test_adapters_are_fetched_sized_and_served() -> None:
    objects = render_on_pool(*CASES["adapters"])
    dep = workload(objects)
    items = loader_items(dep)
    assert [i["name"] for i in items] == ["model", "adapter:sql", "adapter:support", "adapter:legal", "adapter:vision"]
    assert [i["mode"] for i in items] == ["fetch", "fetch", "fetch", "verify", "fetch"]
    args = dep["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--enable-lora" in args and args[args.index("--max-lora-rank") + 1] == "32"
    assert args[args.index("--max-loras") + 1] == "4"
    modules = args[args.index("--lora-modules") + 1 :]
    assert [m.split("=")[0] for m in modules[:4]] == ["sql", "support", "legal", "vision"]
    assert modules[2] == "legal=/adapter-source/2/legal"  # pvc://adapters/legal: claim adapters, path legal
    init = dep["spec"]["template"]["spec"]["initContainers"][0]
    assert {"name": "adapter-2", "mountPath": "/adapter-source/2", "readOnly": True} in init["volumeMounts"]
    # One Secret serves every fetched source: the hf token for the model, the S3 keys for the s3 adapter, the
    # registry auth file (if it has the key) for the oci adapter.
    assert [e["name"] for e in init["env"] if "valueFrom" in e] == ["HF_TOKEN"]
    assert {"name": "REGISTRY_AUTH_FILE", "value": "/var/run/secrets/genaiops.dev/registry/config.json"} in init["env"]
    assert init["envFrom"] == [{"secretRef": {"name": "hf-token", "optional": False}}]


def test_adding_an_adapter_changes_only_the_workload() -> None:
    spec, pool = CASES["hf-shared"]
    before = render_on_pool({**spec, "adapters": [{"name": "a", "uri": "hf://acme/a"}]}, pool)
    after = render_on_pool(
        {**spec, "adapters": [{"name": "a", "uri": "hf://acme/a"}, {"name": "b", "uri": "hf://acme/b"}]}, pool
    )
    changed = {o["kind"] for o, p in zip(before, after, strict=True) if o != p}
    assert changed <= {"Deployment", "PersistentVolumeClaim"}
    assert "Deployment" in changed


def test_registry_credentials_are_required_for_an_oci_model_and_optional_for_oci_adapters() -> None:
    def auth_volume(case: str) -> dict[str, Any]:
        pod = workload(render_on_pool(*CASES[case], settings=CASE_SETTINGS.get(case)))["spec"]["template"]["spec"]
        return next((v for v in pod["volumes"] if v["name"] == "registry-auth"), {})

    assert auth_volume("oci")["secret"]["optional"] is False  # a Secret without the key stops the pod, clearly
    # The model's Secret is a Hub token here; the adapter may well be public: pulled anonymously then.
    assert auth_volume("adapters")["secret"] == {
        "secretName": "hf-token",
        "optional": True,
        "items": [{"key": ".dockerconfigjson", "path": "config.json"}],
    }
    assert auth_volume("oci-image-volume") == {} and auth_volume("hf-emptydir") == {}
    items = loader_items(workload(render_on_pool(*CASES["adapters"])))
    vision = next(i for i in items if i["name"] == "adapter:vision")
    assert vision["mode"] == "fetch" and vision["uri"] == "oci://ghcr.io/acme/vision-lora:v1"
