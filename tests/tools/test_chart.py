"""The Helm chart charts/genai-operator, with the real helm binary: `helm lint --strict`; `helm template`
in three renders (default values; production: image digest, ServiceMonitor and the example PlacementPools;
namespaced) with every object validated strictly (kubernetes-validate 1.33 and newest, the ServiceMonitor
against the Prometheus Operator CRD, PlacementPools against our CRD); the app.kubernetes.io/* and
helm.sh/chart labels; chart CRDs byte-identical to crds/ and `helm show crds` as the CRD upgrade path;
values.schema.json accepting values.yaml and rejecting bad values (through helm and jsonschema); the
operator pod at Pod Security "restricted" with a read-only root filesystem; values reaching the operator
(arguments parsed by the CLI, environment parsed by Settings.from_env, every variable one it reads);
namespaced mode; NOTES.txt; and checkov on the rendered chart, with the documented skip list in
tests/checkov_skips.yaml.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from genai_operator.api.enums import Engine
from genai_operator.cli.main import _parser
from genai_operator.settings import KNOWN_VARIABLES, Settings
from support.chart import (
    CHART,
    KUBE_VERSION,
    NAMESPACED_VALUES,
    RELEASE,
    RELEASE_NAMESPACE,
    ROOT,
    helm_template,
    helm_template_error,
    of_kind,
    run,
    tool,
)
from support.crd_validation import admission_errors
from support.render_fixtures import K8S_VERSIONS, validate_with_crd

pytestmark = pytest.mark.tools

DIGEST = "sha256:" + "0123456789abcdef" * 4
POOLS_VALUES = ROOT / ".cache" / "test-chart-pools.values.yaml"
SCHEMA = json.loads((CHART / "values.schema.json").read_text(encoding="utf-8"))
VALUES = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
CHART_META = yaml.safe_load((CHART / "Chart.yaml").read_text(encoding="utf-8"))
SKIPS = yaml.safe_load((ROOT / "tests" / "checkov_skips.yaml").read_text(encoding="utf-8"))


def _pools_values() -> Path:
    """examples/inventory/pools.yaml as chart values: every example pool must be accepted by the schema."""
    docs = [d for d in yaml.safe_load_all((ROOT / "examples/inventory/pools.yaml").read_text()) if d]
    pools = [{"name": d["metadata"]["name"], "spec": d["spec"]} for d in docs if d["kind"] == "PlacementPool"]
    text = yaml.safe_dump({"pools": pools}, sort_keys=False)
    POOLS_VALUES.parent.mkdir(parents=True, exist_ok=True)
    if not POOLS_VALUES.exists() or POOLS_VALUES.read_text() != text:
        POOLS_VALUES.write_text(text)
    return POOLS_VALUES


PRODUCTION = (
    "--set",
    f"image.digest={DIGEST}",
    "--set",
    "serviceMonitor.enabled=true",
    "--set",
    "replicas=2",
    "--values",
    str(_pools_values()),
)
RENDERS = {
    "default": (),
    "production": PRODUCTION,
    "namespaced": (*NAMESPACED_VALUES, "--set", f"image.digest={DIGEST}"),
}


def _deployment(*values: str) -> dict[str, Any]:
    (deployment,) = of_kind(helm_template(*values), "Deployment")
    return deployment


def _container(*values: str) -> dict[str, Any]:
    container: dict[str, Any] = _deployment(*values)["spec"]["template"]["spec"]["containers"][0]
    return container


# -- lint and schema validity of every rendered object ------------------------------------------------
@pytest.mark.parametrize("render", list(RENDERS))
def test_helm_lint_strict_passes(render: str) -> None:
    result = run([tool("helm"), "lint", str(CHART), "--strict", "--kube-version", KUBE_VERSION, *RENDERS[render]])
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("render", list(RENDERS))
def test_every_rendered_object_validates_strictly(render: str) -> None:
    objects = helm_template(*RENDERS[render])
    assert objects
    pool_crd = yaml.safe_load((CHART / "crds" / "placementpools.genaiops.dev.yaml").read_text())
    for obj in objects:
        if obj["kind"] == "ServiceMonitor":
            validate_with_crd(obj)
        elif obj["kind"] == "PlacementPool":
            assert admission_errors(pool_crd, obj) == [], obj["metadata"]["name"]
        else:
            for version in K8S_VERSIONS:
                kubernetes_validate.validate(obj, version, strict=True)


def test_chart_crds_validate_strictly() -> None:
    for path in sorted((CHART / "crds").glob("*.yaml")):
        crd = yaml.safe_load(path.read_text(encoding="utf-8"))
        for version in K8S_VERSIONS:
            kubernetes_validate.validate(crd, version, strict=True)


def test_expected_objects_per_render() -> None:
    kinds = sorted(o["kind"] for o in helm_template())
    assert kinds == [
        "ClusterRole",
        "ClusterRole",
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
        "NetworkPolicy",
        "Role",
        "RoleBinding",
        "Service",
        "ServiceAccount",
    ]
    production = helm_template(*PRODUCTION)
    assert len(of_kind(production, "ServiceMonitor")) == 1
    pools = of_kind(production, "PlacementPool")
    assert {p["metadata"]["name"] for p in pools} >= {"cloud-l4"}
    assert all("namespace" not in p["metadata"] for p in pools)  # cluster-scoped
    minimal = helm_template(
        "--set",
        "rbac.create=false",
        "--set",
        "serviceAccount.create=false",
        "--set",
        "networkPolicy.enabled=false",
        "--set",
        "rbac.aggregateToDefaultRoles=false",
    )
    assert sorted(o["kind"] for o in minimal) == ["Deployment", "Service"]
    assert (
        _deployment("--set", "serviceAccount.create=false")["spec"]["template"]["spec"]["serviceAccountName"]
        == "default"
    )


@pytest.mark.parametrize("render", list(RENDERS))
def test_every_object_carries_the_standard_labels(render: str) -> None:
    version = CHART_META["version"]
    for obj in helm_template(*RENDERS[render]):
        labels = obj["metadata"]["labels"]
        assert labels["helm.sh/chart"] == f"genai-operator-{version}", obj["kind"]
        assert labels["app.kubernetes.io/name"] == "genai-operator"
        assert labels["app.kubernetes.io/instance"] == RELEASE
        assert labels["app.kubernetes.io/version"] == CHART_META["appVersion"]
        assert labels["app.kubernetes.io/managed-by"] == "Helm"  # never genai-operator: that marks children
        assert labels["app.kubernetes.io/part-of"] == "genai-operator"
        if obj["kind"] in ("Deployment", "Service", "ServiceAccount", "ServiceMonitor", "NetworkPolicy"):
            assert obj["metadata"]["namespace"] == RELEASE_NAMESPACE


# -- CRDs: identical copies, and the upgrade path ------------------------------------------------------
def test_chart_crds_are_byte_identical_to_the_generated_ones() -> None:
    sources = sorted((ROOT / "crds").glob("*.yaml"))
    copies = sorted((CHART / "crds").glob("*.yaml"))
    assert [p.name for p in copies] == [p.name for p in sources]
    for source, copy in zip(sources, copies, strict=True):
        assert copy.read_bytes() == source.read_bytes(), f"run `python scripts/sync-chart.py`: {copy.name} differs"


def test_values_schema_pools_follow_the_placementpool_crd() -> None:
    result = run([str(ROOT / ".venv/bin/python"), "scripts/sync-chart.py", "--check"], check=False)
    assert result.returncode == 0, f"chart out of date; run `python scripts/sync-chart.py`:\n{result.stdout}"


def test_helm_show_crds_prints_the_crds_for_kubectl_apply() -> None:
    """The documented upgrade path: `helm show crds <chart> | kubectl apply --server-side -f -`."""
    shown = [d for d in yaml.safe_load_all(run([tool("helm"), "show", "crds", str(CHART)]).stdout) if d]
    expected = [yaml.safe_load(p.read_text()) for p in sorted((ROOT / "crds").glob("*.yaml"))]
    assert sorted(shown, key=lambda d: d["metadata"]["name"]) == expected


# -- values.schema.json --------------------------------------------------------------------------------
def test_values_yaml_and_example_pools_pass_the_schema() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    jsonschema.validate(VALUES, SCHEMA)
    jsonschema.validate({**VALUES, **yaml.safe_load(POOLS_VALUES.read_text())}, SCHEMA)


def _with(path: str, value: Any) -> dict[str, Any]:
    values = json.loads(json.dumps(VALUES))
    node = values
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value
    return values


BAD_VALUES = {
    "replicas as a string": ("replicas", "2"),
    "more than five replicas": ("replicas", 6),
    "negative replicas": ("replicas", -1),
    "digest without sha256": ("image.digest", "abc"),
    "tag with a slash": ("image.tag", "a/b"),
    "repository with a tag": ("image.repository", "ghcr.io/x/y:1.0"),
    "pull policy": ("image.pullPolicy", "Sometimes"),
    "namespaces as a string": ("watch.namespaces", "ml"),
    "bad namespace name": ("watch.namespaces", ["ML_team"]),
    "keda as a string": ("keda.enabled", "yes"),
    "prometheus without scheme": ("prometheus.address", "prometheus:9090"),
    "metric query not a string": ("prometheus.metricQueries", {"QueueDepth": 4}),
    "metrics port privileged": ("metrics.port", 80),
    "unknown top-level key": ("imagee", {}),
    "pool without spec": ("pools", [{"name": "a"}]),
    "pool with a bad tier": ("pools", [{"name": "a", "spec": {"tier": "Moon"}}]),
    "pool with an unknown field": ("pools", [{"name": "a", "spec": {"tier": "Edge", "nodeSelectr": {}}}]),
    "pool with a bad name": ("pools", [{"name": "Edge_Pool", "spec": {"tier": "Edge"}}]),
    "resources with an unknown key": ("resources", {"requests": {"cpu": "1"}, "limit": {}}),
    "engine image with spaces": ("engineImages.vllm", "vllm openai"),
    "unknown oci mode": ("ociModels", "Mount"),
    "relative host path prefix": ("security.hostPathPrefixes", ["opt/models"]),
    "host path prefixes as a string": ("security.hostPathPrefixes", "/opt/models"),
    "registry with spaces": ("security.allowedImageRegistries", ["docker.io/ vllm"]),
    "unknown security key": ("security.hostPaths", ["/opt/models"]),
    "service monitor interval": ("serviceMonitor.interval", "30 seconds"),
}


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_values_schema_rejects_bad_values(case: str) -> None:
    path, value = BAD_VALUES[case]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_with(path, value), SCHEMA)


def test_schema_ties_namespaces_to_all_namespaces() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_with("watch.allNamespaces", False), SCHEMA)  # and no namespace listed
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_with("watch.namespaces", ["ml"]), SCHEMA)  # a list, yet all namespaces
    values = _with("watch.allNamespaces", False)
    values["watch"]["namespaces"] = ["ml", "stores"]
    jsonschema.validate(values, SCHEMA)


HELM_REJECTS = {
    "replicas=6": "/replicas",
    "image.digest=sha256:abc": "/image/digest",
    "watch.allNamespaces=false": "/watch/namespaces",
    "keda.enabled=maybe": "/keda/enabled",
    "bogus=1": "bogus",
    "pools[0].name=a": "/pools/0",
}


@pytest.mark.parametrize("setting", list(HELM_REJECTS))
def test_helm_refuses_values_the_schema_rejects(setting: str) -> None:
    error = helm_template_error("--set", setting)
    assert "values don't meet the specifications of the schema" in error and HELM_REJECTS[setting] in error, error


def test_duplicate_pool_names_fail_the_render() -> None:
    error = helm_template_error(
        "--set",
        "pools[0].name=a",
        "--set",
        "pools[0].spec.tier=Edge",
        "--set",
        "pools[1].name=a",
        "--set",
        "pools[1].spec.tier=Cloud",
    )
    assert 'the name "a" appears twice' in error


# -- the operator pod -----------------------------------------------------------------------------------
@pytest.mark.parametrize("render", list(RENDERS))
def test_operator_pod_meets_pod_security_restricted(render: str) -> None:
    deployment = _deployment(*RENDERS[render])
    # The new pod first: it stands by until the old one releases the leader lease.
    assert deployment["spec"]["replicas"] == (2 if render == "production" else 1)
    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
    }
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False and pod["enableServiceLinks"] is False
    (container,) = pod["containers"]
    sc = container["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and sc["privileged"] is False
    assert sc["readOnlyRootFilesystem"] is True and sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["runAsNonRoot"] is True and isinstance(sc["runAsUser"], int) and sc["runAsUser"] >= 10000
    # The only writable mount is /tmp; the API token is a projected, expiring ServiceAccount token.
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]
    token = mounts["/var/run/secrets/kubernetes.io/serviceaccount"]
    assert token["readOnly"] is True
    sources = volumes[token["name"]]["projected"]["sources"]
    assert sources[0]["serviceAccountToken"]["path"] == "token"
    assert {"key": "ca.crt", "path": "ca.crt"} in sources[1]["configMap"]["items"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert set(container["resources"]) == {"requests", "limits"}
    for other in ("hostNetwork", "hostPID", "hostIPC"):
        assert not pod.get(other)


def test_image_reference_prefers_the_digest() -> None:
    assert _container()["image"] == f"ghcr.io/genaiops/genai-operator:{CHART_META['appVersion']}"
    assert _container("--set", "image.tag=1.2.3")["image"] == "ghcr.io/genaiops/genai-operator:1.2.3"
    assert (
        _container("--set", "image.tag=1.2.3", "--set", f"image.digest={DIGEST}")["image"]
        == f"ghcr.io/genaiops/genai-operator@{DIGEST}"
    )


def _env(container: dict[str, Any]) -> dict[str, str]:
    """Literal values (the lease namespace comes from the downward API: see the leader lease test)."""
    return {e["name"]: e["value"] for e in container.get("env", []) if "value" in e}


def test_values_reach_the_operator_as_arguments_and_settings() -> None:
    queries = {"QueueDepth": 'sum(vllm:num_requests_waiting{namespace="{namespace}"})'}
    container = _container(
        "--set",
        "prometheus.address=http://prom.obs.svc:9090",
        "--set-json",
        f"prometheus.metricQueries={json.dumps(queries)}",
        "--set",
        "prometheus.modelServiceMonitors=false",
        "--set",
        'prometheus.wakeQuery=sum(rate(gateway_requests{service="{service}"}[2m]))',
        "--set",
        "engineImages.vllm=registry.local/vllm-openai:v0.9.0",
        "--set",
        "engineImages.llamaCpp=registry.local/llama.cpp:server",
        "--set",
        "defaultGpuTypes={nvidia-l4,nvidia-h100-80gb}",
        "--set",
        "metrics.port=9090",
        "--set",
        "verbose=true",
        "--set",
        "ociModels=ImageVolume",
        "--set",
        "security.hostPathPrefixes={/opt/models,/data/edge}",
        "--set",
        "security.allowedImageRegistries={docker.io/vllm,ghcr.io/ggml-org}",
    )
    settings = Settings.from_env(_env(container))
    assert settings.prometheus_address == "http://prom.obs.svc:9090"
    assert settings.oci_models == "ImageVolume"
    assert dict(settings.metric_queries) == queries
    assert settings.service_monitors is False
    assert settings.wake_query == 'sum(rate(gateway_requests{service="{service}"}[2m]))'
    assert dict(settings.images) == {
        Engine.VLLM: "registry.local/vllm-openai:v0.9.0",
        Engine.LLAMA_CPP: "registry.local/llama.cpp:server",
    }
    assert settings.default_gpu_types == ("nvidia-l4", "nvidia-h100-80gb")
    assert settings.host_path_prefixes == ("/opt/models", "/data/edge")
    assert settings.image_registries == ("docker.io/vllm", "ghcr.io/ggml-org")
    args = _parser().parse_args(container["args"])
    assert args.command == "run" and not args.standalone and args.all_namespaces and args.verbose
    assert args.metrics_port == 9090 == container["ports"][0]["containerPort"]
    # Defaults: the operator's own defaults, nothing surprising.
    defaults = Settings.from_env(_env(_container()))
    assert defaults.prometheus_address == VALUES["prometheus"]["address"] == Settings().prometheus_address
    assert defaults.images == {} and defaults.metric_queries == {} and defaults.service_monitors is True
    assert defaults.oci_models == "Pull" == Settings().oci_models
    assert defaults.host_path_prefixes == () == Settings().host_path_prefixes  # no node path by default
    assert defaults.image_registries == ()
    namespaced = _parser().parse_args(_container(*NAMESPACED_VALUES)["args"])
    assert namespaced.namespace == ["ml", "stores"] and not namespaced.all_namespaces


def test_the_chart_sets_only_variables_the_settings_read() -> None:
    """Every GENAI_OPERATOR_* name in the templates, rendered with every optional value set, is one the
    settings module reads: a renamed or misspelt variable would otherwise be ignored without a word."""
    every_option = (
        *("--set-json", 'prometheus.metricQueries={"QueueDepth":"sum(q)"}'),
        *("--set", "prometheus.wakeQuery=sum(up)", "--set", "loaderImage=mirror/loader:1"),
        *("--set", "engineImages.vllm=v", "--set", "engineImages.llamaCpp=l", "--set", "engineImages.tgi=t"),
        *("--set", "engineImages.sglang=s", "--set", "engineImages.tei=e"),
        *("--set", "defaultGpuTypes={nvidia-l4}", "--set", "security.hostPathPrefixes={/opt/models}"),
        *("--set", "security.allowedImageRegistries={docker.io/vllm}"),
    )
    rendered = {e["name"] for e in _container(*every_option)["env"]}
    written = set(re.findall(r"GENAI_OPERATOR_[A-Z0-9_]+", (CHART / "templates" / "deployment.yaml").read_text()))
    assert rendered == written  # each variable the template names was rendered, so checked below
    assert rendered <= KNOWN_VARIABLES, rendered - KNOWN_VARIABLES


def test_namespaced_mode_grants_per_namespace_roles_only() -> None:
    objects = helm_template(*NAMESPACED_VALUES)
    roles = [r for r in of_kind(objects, "Role") if not r["metadata"]["name"].endswith("-leader-election")]
    assert sorted(r["metadata"]["namespace"] for r in roles) == ["ml", "stores"]
    bindings = [b for b in of_kind(objects, "RoleBinding") if not b["metadata"]["name"].endswith("-leader-election")]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["ml", "stores"]
    (cluster_role,) = [r for r in of_kind(objects, "ClusterRole") if r["metadata"]["name"].endswith("-cluster")]
    cluster_resources = {res for rule in cluster_role["rules"] for res in rule["resources"]}
    assert cluster_resources == {
        "nodes",
        "placementpools",
        "placementpools/status",
        "customresourcedefinitions",
        "namespaces",
    }
    for rule in cluster_role["rules"]:  # reads only, but for the pools' status
        if rule["resources"] != ["placementpools/status"]:
            assert set(rule["verbs"]) == {"get", "list", "watch"}, rule


def test_metrics_service_and_service_monitor_select_the_operator() -> None:
    objects = helm_template(*PRODUCTION)
    (service,) = of_kind(objects, "Service")
    (monitor,) = of_kind(objects, "ServiceMonitor")
    (deployment,) = of_kind(objects, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= pod_labels.items()
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"] == "metrics"
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [RELEASE_NAMESPACE]}
    (policy,) = of_kind(objects, "NetworkPolicy")
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
    assert policy["spec"]["ingress"] == [{"ports": [{"protocol": "TCP", "port": "metrics"}]}]


def test_notes_tell_the_user_what_to_apply_next() -> None:
    def notes(*values: str) -> str:
        out = run(
            [
                tool("helm"),
                "install",
                RELEASE,
                str(CHART),
                "--namespace",
                RELEASE_NAMESPACE,
                "--dry-run=client",
                *values,
            ]
        ).stdout
        return out.split("NOTES:", 1)[1]

    text = notes()
    assert "kind: ModelDeployment" in text and "kubectl apply" in text
    assert "kubectl get modeldeployments" in text and "PlacementPool" in text
    assert "helm show crds" in text and "kubectl apply --server-side" in text
    assert "every namespace" in text
    text = notes(*NAMESPACED_VALUES, "--values", str(POOLS_VALUES), "--set", "keda.enabled=false")
    assert "ml, stores" in text and "kubectl apply -n ml" in text
    assert "created the PlacementPools" in text and "cloud-l4" in text
    assert "keda.enabled=false" in text


# -- checkov --------------------------------------------------------------------------------------------
def _checkov(files: list[Path]) -> set[tuple[str, str]]:
    """(check id, resource) of every failed check."""
    args = [
        tool("checkov"),
        "--framework",
        "kubernetes",
        "--output",
        "json",
        "--quiet",
        "--compact",
        "--skip-download",
        "--soft-fail",
    ]
    for path in files:
        args += ["-f", str(path)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = set()
    for report in reports:
        if not isinstance(report, dict):
            continue
        assert report.get("summary", {}).get("passed", 0) > 50 or report.get("summary", {}).get("failed")
        for check in report.get("results", {}).get("failed_checks", []):
            failed.add((check["check_id"], check["resource"]))
    return failed


def test_checkov_passes_production_renders_and_only_the_documented_skips_fail_by_default(tmp_path: Path) -> None:
    files = {}
    for render, values in RENDERS.items():
        path = tmp_path / f"{render}.yaml"
        path.write_text(yaml.safe_dump_all(helm_template(*values), sort_keys=False))
        files[render] = path
    assert _checkov([files["production"], files["namespaced"]]) == set()
    documented = {entry["id"] for entry in SKIPS["default-values"]}
    assert all(entry["why"].strip() for entry in SKIPS["default-values"])
    failed = _checkov([files["default"]])
    assert {check for check, _ in failed} == documented, (
        f"checkov on the default values failed {sorted(failed)}; documented skips: {sorted(documented)}"
    )


@pytest.mark.parametrize("values", [(), NAMESPACED_VALUES], ids=["cluster-wide", "namespaced"])
def test_the_leader_lease_is_the_operators_own_in_its_own_namespace(values: tuple[str, ...]) -> None:
    objects = helm_template(*values)
    container = _container(*values)
    env = {e["name"]: e for e in container["env"]}
    assert env["GENAI_OPERATOR_LEASE_NAMESPACE"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.namespace"}}
    lease = env["GENAI_OPERATOR_LEASE_NAME"]["value"]
    (role,) = [r for r in of_kind(objects, "Role") if r["metadata"]["name"].endswith("-leader-election")]
    assert role["metadata"]["namespace"] == RELEASE_NAMESPACE
    assert role["rules"] == [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": [lease],
            "verbs": ["get", "update"],
        },
    ]
    (binding,) = [b for b in of_kind(objects, "RoleBinding") if b["metadata"]["name"] == role["metadata"]["name"]]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert "--standalone" not in container["args"]


def test_stand_bys_get_a_disruption_budget_and_spread_over_nodes() -> None:
    objects = helm_template(*PRODUCTION)
    (budget,) = of_kind(objects, "PodDisruptionBudget")
    (deployment,) = of_kind(objects, "Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert budget["spec"]["maxUnavailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    (term,) = deployment["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    assert term["podAffinityTerm"]["labelSelector"]["matchLabels"].items() <= pod_labels.items()
    single = helm_template()  # one replica: no budget (it would block every drain), no spreading rule
    assert not of_kind(single, "PodDisruptionBudget")
    assert "affinity" not in of_kind(single, "Deployment")[0]["spec"]["template"]["spec"]
