"""Specs written by someone who may create ModelDeployments in one namespace and wants more (issue 17):
secrets through `$(VAR)` expansion, node paths through file://, images from anywhere, StatefulSet names
without pods, and objects the API server rejects. Each is refused with a message naming the field (and the
setting that allows it), or rendered so that what reaches the cluster is exactly what the user wrote."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from genai_operator.engines.policy import PolicyError, from_registry
from genai_operator.formats.dns_names import MAX_NAME
from genai_operator.render.api_checks import RejectedObjectError, check_objects
from genai_operator.render.bundle import RENDER_SPEC_ERRORS
from genai_operator.settings import Settings
from support.kubelet_expansion import expand_container
from support.render_fixtures import manifest, render_on_pool

GPU_POOL: dict[str, Any] = {
    "tier": "Cloud",
    "nodeSelector": {"nvidia.com/gpu.product": "NVIDIA-L4"},
    "gpu": {"type": "nvidia-l4"},
}
CPU_POOL: dict[str, Any] = {"tier": "Edge", "nodeSelector": {"node-role.kubernetes.io/edge": ""}}
NODE_LOCAL = {**GPU_POOL, "cache": {"mode": "NodeLocal", "storageClassName": "local-storage", "size": "100Gi"}}
EDGE_MODELS = Settings(host_path_prefixes=("/opt/models",))
SECRET = "s3cr3t-value"
# What envFrom (s3/gs) and secretKeyRef (hf) put in the loader's environment.
SECRET_ENV = {"AWS_SECRET_ACCESS_KEY": SECRET, "AWS_ACCESS_KEY_ID": SECRET, "HF_TOKEN": SECRET}


def render(
    spec: dict[str, Any], pool_spec: dict[str, Any] = GPU_POOL, *, name: str = "model", settings: Settings | None = None
) -> list[dict[str, Any]]:
    return render_on_pool(spec, pool_spec, name, settings)


def pod(objects: list[dict[str, Any]]) -> dict[str, Any]:
    spec: dict[str, Any] = next(o for o in objects if o["kind"] in ("Deployment", "StatefulSet"))["spec"]
    return dict(spec["template"]["spec"])


# -- 1. $(VAR) in anything that reaches command, args or env -----------------------------------------------


@pytest.mark.parametrize(
    ("spec", "pool_spec"),
    [
        (
            {
                "model": {"uri": "s3://x/$(AWS_SECRET_ACCESS_KEY)", "parameters": "8B", "credentialsSecret": "aws"},
                "engine": "VLLM",
                "serving": {"extraArgs": ["--served-model-name=$(AWS_SECRET_ACCESS_KEY)", "$$(HF_TOKEN)"]},
                "adapters": [{"name": "a", "uri": "hf://acme/lora-$(HF_TOKEN)@$(AWS_ACCESS_KEY_ID)"}],
            },
            GPU_POOL,
        ),
        (
            {
                "model": {
                    "uri": "hf://org/m-$(HF_TOKEN)/q-$(HF_TOKEN).gguf",
                    "parameters": "1.5B",
                    "credentialsSecret": "hf",
                },
                "engine": "LlamaCpp",
                "serving": {"extraArgs": ["$(HF_TOKEN)"]},
            },
            CPU_POOL,
        ),
        (
            {
                "model": {"uri": "gs://b/$(AWS_SECRET_ACCESS_KEY)$", "parameters": "7B", "credentialsSecret": "gcs"},
                "engine": "TGI",
                "serving": {"extraArgs": ["--x=$(AWS_ACCESS_KEY_ID", "$"]},
            },
            GPU_POOL,
        ),
    ],
)
def test_variable_references_arrive_literally(spec: dict[str, Any], pool_spec: dict[str, Any]) -> None:
    objects = render(spec, pool_spec)
    for container in (*pod(objects)["initContainers"], *pod(objects)["containers"]):
        seen = expand_container(container, SECRET_ENV)
        assert SECRET not in json.dumps([seen["command"], seen["args"]])
        assert SECRET not in json.dumps({k: v for k, v in seen["env"].items() if k not in SECRET_ENV})
        if container["name"] == "model-loader":
            plan = json.loads(seen["args"][1])
            wanted = [spec["model"]["uri"], *(a["uri"] for a in spec.get("adapters", []))]
            assert [item["uri"] for item in plan] == wanted
        else:
            assert all(arg in seen["args"] for arg in spec["serving"]["extraArgs"])


# -- 2. node paths and images: the platform team's policy ----------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "file:///",
        "file:///etc/kubernetes/pki",
        "file:///var/lib/kubelet/pods",
        "file:///opt/models/../../etc/kubernetes",
        "file:///opt/models-evil/m.gguf",
    ],
)
@pytest.mark.parametrize("settings", [Settings(), EDGE_MODELS])
def test_file_sources_outside_the_allowed_directories_are_refused(uri: str, settings: Settings) -> None:
    for spec in (
        {"model": {"uri": uri, "parameters": "1.5B"}, "engine": "LlamaCpp"},
        {
            "model": {"uri": "hf://meta-llama/Llama-3.1-8B-Instruct"},
            "engine": "VLLM",
            "adapters": [{"name": "a", "uri": uri}],
        },
    ):
        with pytest.raises(
            PolicyError,
            match=r"(spec\.model\.uri|spec\.adapters\[0\]\.uri).*"
            r"GENAI_OPERATOR_HOST_PATH_PREFIXES",
        ):
            render(spec, CPU_POOL if spec["engine"] == "LlamaCpp" else GPU_POOL, settings=settings)
    assert PolicyError in RENDER_SPEC_ERRORS  # so the operator answers SpecValid=False, the CLI exit 2


def test_file_sources_under_an_allowed_directory_are_mounted() -> None:
    objects = render(
        {"model": {"uri": "file:///opt/models/q4.gguf", "parameters": "1.5B"}, "engine": "LlamaCpp"},
        CPU_POOL,
        settings=EDGE_MODELS,
    )
    assert {"name": "model-source", "hostPath": {"path": "/opt/models/q4.gguf"}} in pod(objects)["volumes"]


def test_engine_images_can_be_restricted_to_registries() -> None:
    spec = {
        "model": {"uri": "hf://meta-llama/Llama-3.1-8B-Instruct"},
        "engine": "VLLM",
        "serving": {"image": "evil.example.com/vllm/vllm-openai:latest"},
    }
    allowed = Settings(image_registries=("docker.io/vllm", "registry.corp.example"))
    with pytest.raises(PolicyError, match=r"spec\.serving\.image.*GENAI_OPERATOR_ALLOWED_IMAGE_REGISTRIES"):
        render(spec, settings=allowed)
    render(spec)  # no list: any image
    render({**spec, "serving": {"image": "vllm/vllm-openai:v0.8.0"}}, settings=allowed)
    assert from_registry("registry.corp.example/team/vllm@sha256:ab", "registry.corp.example")
    assert not from_registry("registry.corp.example.evil.io/vllm", "registry.corp.example")
    assert not from_registry("vllm", "docker.io/vllm")  # docker.io/library/vllm
    assert not from_registry("docker.io/vllm-evil/x", "docker.io/vllm")


def test_policy_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "GENAI_OPERATOR_HOST_PATH_PREFIXES": "/opt/models, /data/edge",
            "GENAI_OPERATOR_ALLOWED_IMAGE_REGISTRIES": "docker.io/vllm,ghcr.io/ggml-org",
        }
    )
    assert settings.host_path_prefixes == ("/opt/models", "/data/edge")
    assert settings.image_registries == ("docker.io/vllm", "ghcr.io/ggml-org")
    assert Settings.from_env({}).host_path_prefixes == ()
    with pytest.raises(ValueError, match="absolute"):
        Settings.from_env({"GENAI_OPERATOR_HOST_PATH_PREFIXES": "models"})


# -- 3. StatefulSet names leave room for the controller's revision hash ------------------------------------


def test_statefulset_names_fit_the_revision_hash_label() -> None:
    objects = render(
        {"model": {"uri": "hf://meta-llama/Llama-3.1-8B-Instruct"}, "engine": "VLLM"}, NODE_LOCAL, name="m" * 63
    )
    sts = next(o for o in objects if o["kind"] == "StatefulSet")
    assert len(sts["metadata"]["name"] + "-" + "7c9d8f6b5d") <= MAX_NAME  # controller-revision-hash value
    assert len(f"{sts['metadata']['name']}-999") <= MAX_NAME  # the pods' hostnames


# -- 4. what the API server would reject ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/tmp", "/cache", "/model-cache", "/dev/shm", "/opt/models/../../tmp", "/dev"])
def test_file_sources_over_the_operators_own_mounts_are_refused(path: str) -> None:
    settings = Settings(host_path_prefixes=("/",))  # even where the platform team allows every node path
    with pytest.raises(RENDER_SPEC_ERRORS, match="overlaps"):
        render({"model": {"uri": f"file://{path}", "parameters": "8B"}, "engine": "VLLM"}, settings=settings)


@pytest.mark.parametrize(
    ("field", "spec"),
    [
        ("uri", {"model": {"uri": "pvc://Bad_Claim/m"}}),
        ("uri", {"model": {"uri": "pvc:///m"}}),
        ("uri", {"model": {"uri": "pvc://-claim/m"}}),
        ("uri", {"model": {"uri": "hf://org/m"}, "adapters": [{"name": "a", "uri": "pvc://UPPER/a"}]}),
        ("image", {"model": {"uri": "hf://org/m"}, "serving": {"image": "vllm/vllm-openai latest"}}),
        ("image", {"model": {"uri": "hf://org/m"}, "serving": {"image": " vllm/vllm-openai"}}),
        (
            "podSelector",
            {
                "model": {"uri": "hf://org/m"},
                "networkPolicy": {"enabled": True, "allowedClients": [{"podSelector": {"app": "bad value!"}}]},
            },
        ),
        (
            "namespaceSelector",
            {
                "model": {"uri": "hf://org/m"},
                "networkPolicy": {"enabled": True, "allowedClients": [{"namespaceSelector": {"bad key/x/y": "v"}}]},
            },
        ),
        (
            "namespaceSelector",
            {
                "model": {"uri": "hf://org/m"},
                "networkPolicy": {"enabled": True, "allowMetricsFrom": [{"namespaceSelector": {"-x": "v"}}]},
            },
        ),
        (
            "podSelector",
            {
                "model": {"uri": "hf://org/m"},
                "networkPolicy": {
                    "enabled": True,
                    "allowedClients": [{"podSelector": {"example.com/" + "n" * 64: "v"}}],
                },
            },
        ),
    ],
)
def test_values_the_api_server_rejects_are_refused_by_the_api_model(field: str, spec: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match=field):
        manifest(**spec)


def test_rendered_objects_are_checked_like_the_api_server_does() -> None:
    objects = render({"model": {"uri": "hf://meta-llama/Llama-3.1-8B-Instruct"}, "engine": "VLLM"})
    check_objects(objects)
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    pod_spec = deployment["spec"]["template"]["spec"]
    engine = pod_spec["containers"][0]
    broken = [
        {**engine, "volumeMounts": [*engine["volumeMounts"], {"name": "tmp", "mountPath": "/cache"}]},
        {**engine, "image": "vllm/vllm-openai\tlatest"},
        {**engine, "volumeMounts": [{"name": "nowhere", "mountPath": "/x"}]},
    ]
    for container in broken:
        bad = {
            **deployment,
            "spec": {
                **deployment["spec"],
                "template": {**deployment["spec"]["template"], "spec": {**pod_spec, "containers": [container]}},
            },
        }
        with pytest.raises(RejectedObjectError, match="Deployment model-pool"):
            check_objects([bad])
    claim = {**pod_spec, "volumes": [*pod_spec["volumes"], {"name": "w", "persistentVolumeClaim": {"claimName": "B"}}]}
    with pytest.raises(RejectedObjectError, match="claimName"):
        check_objects([{**deployment, "spec": {**deployment["spec"], "template": {"spec": claim}}}])
    labels = {**deployment, "metadata": {**deployment["metadata"], "labels": {"genaiops.dev/pool": "x" * 64}}}
    with pytest.raises(RejectedObjectError, match="label value"):
        check_objects([labels])
