"""One list of API scenarios run against both the emulator and the real kube-apiserver (by
test_emulator_calibration.py): each sends the same HTTP requests and returns what it observed, reduced to the
facts an operator depends on (status codes, reasons, generation and resourceVersion movement, defaults,
subresource semantics, watch expiry). Where the two disagree, the real server is right.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

import yaml

from cluster_support import example, md_path

JSON, MERGE, STRATEGIC, JSON_PATCH, APPLY = (
    "application/json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/json-patch+json",
    "application/apply-patch+yaml",
)


class Http(Protocol):
    def request(self, method: str, path: str, body: Any = None, *, content_type: str = JSON) -> tuple[int, Any]: ...


Observed = dict[str, Any]


def _md(ns: str, name: str, **spec: Any) -> dict[str, Any]:
    manifest = example("llama-8b-bf16-l4.yaml")
    manifest["metadata"] = {"name": name, "namespace": ns, "labels": {"calibration": "yes"}}
    manifest["spec"].update(spec)
    return manifest


def _reason(answer: Any) -> str | None:
    return answer.get("reason") if isinstance(answer, dict) and answer.get("kind") == "Status" else None


def _at(obj: Any, *path: str) -> Any:
    """obj[path...], or None where the answer lacks it (an error Status instead of the object, say)."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _rv(obj: Any) -> int:
    return int(obj["metadata"]["resourceVersion"])


def _deployment(ns: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "c", "image": "engine:1.0"}]},
            },
        },
    }


# -- ModelDeployment (a custom resource with status and scale subresources) ---------------------------------
def create_and_read(http: Http, ns: str) -> Observed:
    code, created = http.request("POST", md_path(ns), _md(ns, "created"))
    again, answer = http.request("POST", md_path(ns), _md(ns, "created"))
    missing, gone = http.request("GET", f"{md_path(ns)}/nothing-here")
    return {
        "create": code,
        "generation": created["metadata"].get("generation"),
        "uid": bool(created["metadata"].get("uid")),
        "status": created.get("status"),
        "duplicate": (again, _reason(answer)),
        "missing": (missing, _reason(gone), (gone.get("details") or {}).get("kind")),
    }


def put_semantics(http: Http, ns: str) -> Observed:
    _, obj = http.request("POST", md_path(ns), _md(ns, "put"))
    stale = json.loads(json.dumps(obj))
    obj["spec"]["replicas"] = 3
    code, updated = http.request("PUT", f"{md_path(ns)}/put", obj)
    stale["spec"]["replicas"] = 4
    conflict, answer = http.request("PUT", f"{md_path(ns)}/put", stale)
    no_version = json.loads(json.dumps(updated))
    del no_version["metadata"]["resourceVersion"]
    unconditional, answer2 = http.request("PUT", f"{md_path(ns)}/put", no_version)
    # status written through the main resource is ignored when the status subresource exists
    with_status = json.loads(json.dumps(updated))
    with_status["status"] = {"replicas": 9}
    _, after = http.request("PUT", f"{md_path(ns)}/put", with_status)
    return {
        "put": code,
        "generation": updated["metadata"]["generation"],
        "stale": (conflict, _reason(answer)),
        "withoutResourceVersion": (unconditional, _reason(answer2)),
        "statusThroughMain": (after or {}).get("status"),
    }


def patch_semantics(http: Http, ns: str) -> Observed:
    http.request("POST", md_path(ns), _md(ns, "patch"))
    code, merged = http.request("PATCH", f"{md_path(ns)}/patch", {"spec": {"replicas": 5}}, content_type=MERGE)
    _, same = http.request("PATCH", f"{md_path(ns)}/patch", {"spec": {"replicas": 5}}, content_type=MERGE)
    meta_code, meta = http.request(
        "PATCH", f"{md_path(ns)}/patch", {"metadata": {"labels": {"x": "y"}}}, content_type=MERGE
    )
    strategic, answer = http.request("PATCH", f"{md_path(ns)}/patch", {"spec": {"replicas": 6}}, content_type=STRATEGIC)
    failed_test, answer2 = http.request(
        "PATCH", f"{md_path(ns)}/patch", [{"op": "test", "path": "/spec/replicas", "value": 1}], content_type=JSON_PATCH
    )
    json_code, patched = http.request(
        "PATCH",
        f"{md_path(ns)}/patch",
        [{"op": "replace", "path": "/spec/replicas", "value": 7}],
        content_type=JSON_PATCH,
    )
    return {
        "merge": (code, merged["metadata"]["generation"]),
        "noOpKeepsResourceVersion": _rv(same) == _rv(merged),
        "noOpGeneration": same["metadata"]["generation"],
        "metadataOnly": (meta_code, meta["metadata"]["generation"]),
        "strategicOnCustomResource": (strategic, _reason(answer)),
        "failedTestOp": (failed_test, _reason(answer2)),
        "jsonPatch": (json_code, patched["spec"]["replicas"], patched["metadata"]["generation"]),
    }


def status_subresource(http: Http, ns: str) -> Observed:
    http.request("POST", md_path(ns), _md(ns, "status"))
    code, patched = http.request(
        "PATCH",
        f"{md_path(ns)}/status/status",
        {"spec": {"replicas": 9}, "status": {"replicas": 1, "observedGeneration": 1}},
        content_type=MERGE,
    )
    obj = patched
    obj["status"]["readyReplicas"] = 1
    put_code, put = http.request("PUT", f"{md_path(ns)}/status/status", obj)
    return {
        "patch": code,
        "specIgnored": patched["spec"]["replicas"],
        "generation": patched["metadata"]["generation"],
        "status": patched.get("status"),
        "put": put_code,
        "putStatus": put.get("status"),
    }


def scale_subresource(http: Http, ns: str) -> Observed:
    http.request("POST", md_path(ns), _md(ns, "scale"))
    http.request(
        "PATCH", f"{md_path(ns)}/scale/status", {"status": {"replicas": 2, "selector": "a=b"}}, content_type=MERGE
    )
    code, scale = http.request("GET", f"{md_path(ns)}/scale/scale")
    scale["spec"]["replicas"] = 4
    put_code, put = http.request("PUT", f"{md_path(ns)}/scale/scale", scale)
    patch_code, _ = http.request("PATCH", f"{md_path(ns)}/scale/scale", {"spec": {"replicas": 5}}, content_type=MERGE)
    bare, _ = http.request("PUT", f"{md_path(ns)}/scale/scale", {"spec": {"replicas": 5}})
    unconditional, _ = http.request(
        "PUT",
        f"{md_path(ns)}/scale/scale",
        {
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {"name": "scale", "namespace": ns},
            "spec": {"replicas": 5},
        },
    )
    _, obj = http.request("GET", f"{md_path(ns)}/scale")
    return {
        "get": code,
        "kind": (scale["apiVersion"], scale["kind"]),
        "status": scale.get("status"),
        "put": (put_code, _at(put, "spec", "replicas"), _reason(put)),
        "patch": patch_code,
        "putWithoutResourceVersion": unconditional,
        "putWithoutKind": bare,
        "spec": obj["spec"]["replicas"],
        "generation": obj["metadata"]["generation"],
    }


def server_side_apply(http: Http, ns: str) -> Observed:
    manifest = yaml.safe_dump(_md(ns, "applied"))
    code, created = http.request("PATCH", f"{md_path(ns)}/applied?fieldManager=alice", manifest, content_type=APPLY)
    other = yaml.safe_dump({**_md(ns, "applied"), "spec": {**_md(ns, "applied")["spec"], "replicas": 9}})
    conflict, answer = http.request("PATCH", f"{md_path(ns)}/applied?fieldManager=bob", other, content_type=APPLY)
    forced, obj = http.request("PATCH", f"{md_path(ns)}/applied?fieldManager=bob&force=true", other, content_type=APPLY)
    managers = sorted(m["manager"] for m in obj["metadata"].get("managedFields", []))
    return {
        "create": code,
        "generation": created["metadata"]["generation"],
        "conflict": (conflict, _reason(answer)),
        "forced": (forced, obj["spec"]["replicas"]),
        "managers": managers,
    }


def delete_semantics(http: Http, ns: str) -> Observed:
    http.request("POST", md_path(ns), _md(ns, "deleted"))
    code, answer = http.request("DELETE", f"{md_path(ns)}/deleted")
    again, answer2 = http.request("DELETE", f"{md_path(ns)}/deleted")
    return {"delete": code, "answerKind": (answer or {}).get("kind"), "again": (again, _reason(answer2))}


def validation_errors(http: Http, ns: str) -> Observed:
    bad = _md(ns, "bad", quantization={"precision": "BF16", "method": "AWQ"})
    code, answer = http.request("POST", md_path(ns), bad)
    enum_code, answer2 = http.request("POST", md_path(ns), _md(ns, "bad2", quantization={"precision": "FP4"}))
    no_ns, answer3 = http.request("POST", md_path("no-such-namespace"), _md(ns, "x"))
    selector, answer4 = http.request("GET", f"{md_path(ns)}?labelSelector=a%20in%20(")
    return {
        "cel": (code, _reason(answer), "AWQ checkpoints are 4-bit" in (answer or {}).get("message", "")),
        "enum": (enum_code, _reason(answer2)),
        "missingNamespace": (no_ns, _reason(answer3)),
        "badSelector": (selector, _reason(answer4)),
    }


def list_and_watch_expiry(http: Http, ns: str) -> Observed:
    http.request("POST", md_path(ns), _md(ns, "listed"))
    code, listed = http.request("GET", f"{md_path(ns)}?labelSelector=calibration%3Dyes")
    kind = listed.get("kind")
    # A resourceVersion far older than anything kept: a watch from it must end in 410 Gone.
    watch_code, answer = http.request("GET", f"{md_path(ns)}?watch=true&resourceVersion=1&timeoutSeconds=1")
    event = answer[0] if isinstance(answer, list) and answer else answer
    expired = (event or {}).get("object", {}).get("code") if isinstance(event, dict) else None
    return {
        "list": (code, kind, bool(listed["metadata"].get("resourceVersion"))),
        "watchFromAncientVersion": (
            watch_code,
            (event or {}).get("type") if isinstance(event, dict) else None,
            expired,
        ),
    }


# -- built-in kinds the operator creates --------------------------------------------------------------------
def deployment_defaults(http: Http, ns: str) -> Observed:
    code, obj = http.request("POST", f"/apis/apps/v1/namespaces/{ns}/deployments", _deployment(ns, "defaults"))
    spec, pod = obj["spec"], obj["spec"]["template"]["spec"]
    container = pod["containers"][0]
    mismatched = _deployment(ns, "mismatch")
    mismatched["spec"]["selector"]["matchLabels"] = {"app": "other"}
    bad, answer = http.request("POST", f"/apis/apps/v1/namespaces/{ns}/deployments", mismatched)
    return {
        "create": code,
        "generation": obj["metadata"]["generation"],
        "replicas": spec.get("replicas"),
        "strategy": spec.get("strategy"),
        "revisionHistoryLimit": spec.get("revisionHistoryLimit"),
        "progressDeadlineSeconds": spec.get("progressDeadlineSeconds"),
        "pod": {
            k: pod.get(k)
            for k in ("restartPolicy", "dnsPolicy", "schedulerName", "terminationGracePeriodSeconds", "securityContext")
        },
        "container": {
            k: container.get(k) for k in ("imagePullPolicy", "terminationMessagePath", "terminationMessagePolicy")
        },
        "selectorMismatch": (bad, _reason(answer)),
    }


def service_defaults(http: Http, ns: str) -> Observed:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "svc", "namespace": ns},
        "spec": {"selector": {"app": "x"}, "ports": [{"name": "http", "port": 8000}]},
    }
    code, obj = http.request("POST", f"/api/v1/namespaces/{ns}/services", service)
    spec = obj["spec"]
    return {
        "create": code,
        "type": spec.get("type"),
        "clusterIP": bool(spec.get("clusterIP")),
        "sessionAffinity": spec.get("sessionAffinity"),
        "port": spec["ports"][0],
        "internalTrafficPolicy": spec.get("internalTrafficPolicy"),
        "ipFamilyPolicy": spec.get("ipFamilyPolicy"),
    }


SCENARIOS: dict[str, Callable[[Http, str], Observed]] = {
    f.__name__: f
    for f in (
        create_and_read,
        put_semantics,
        patch_semantics,
        status_subresource,
        scale_subresource,
        server_side_apply,
        delete_semantics,
        validation_errors,
        list_and_watch_expiry,
        deployment_defaults,
        service_defaults,
    )
}
