"""CustomResourceDefinitions generated from the pydantic models (the single source of truth).

Pydantic emits JSON Schema with `$ref`s, `anyOf: [X, null]` for optional fields and titles; a
structural CRD schema wants every node inlined and typed, no nullable unions and no
`additionalProperties` next to `properties`. `structural()` does that translation.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel

from genai_operator import API_GROUP, API_VERSION
from genai_operator.api.modeldeployment import ModelDeploymentSpec
from genai_operator.api.modeldeployment_status import ModelDeploymentStatus
from genai_operator.api.placementpool import PlacementPoolSpec, PlacementPoolStatus

Schema = dict[str, Any]

# Lists that are maps keyed by a field: server-side apply and strategic merge treat them per item.
LIST_MAP_KEYS: dict[str, str] = {"conditions": "type", "placement": "pool", "adapters": "name"}


def structural(model: type[BaseModel]) -> Schema:
    """The structural openAPIV3Schema of one pydantic model."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    defs: dict[str, Schema] = raw.pop("$defs", {})
    return _clean(_inline(raw, defs), name="")


def _inline(node: Any, defs: dict[str, Schema]) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            target = copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[-1]])
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            merged = {**_inline(target, defs), **_inline(siblings, defs)}
            return merged
        return {k: _inline(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def _clean(node: Schema, name: str) -> Schema:
    node = dict(node)
    any_of = node.pop("anyOf", None)
    if any_of is not None:
        # Optional[X] is `anyOf: [X, {type: null}]`; an absent field is how Kubernetes says null.
        variants = [v for v in any_of if v.get("type") != "null"]
        if len(variants) != 1:
            raise ValueError(f"field {name!r}: unions other than Optional[X] are not structural")
        node = {**variants[0], **node}
        if node.get("default", 0) is None:
            del node["default"]
    node.pop("title", None)
    # Constrained map keys come as patternProperties, which structural schemas lack: the values keep their
    # schema, the keys are checked by the operator's validation.
    node.pop("propertyNames", None)
    pattern_properties = node.pop("patternProperties", None)
    if pattern_properties:
        (node["additionalProperties"],) = pattern_properties.values()
    if node.get("default", 0) is None:
        del node["default"]
    if "properties" in node:
        node.pop("additionalProperties", None)
        node["properties"] = {k: _clean(v, k) for k, v in node["properties"].items()}
        node["type"] = "object"
    elif isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = _clean(node["additionalProperties"], name)
    if "items" in node:
        node["items"] = _clean(node["items"], name)
        key = LIST_MAP_KEYS.get(name)
        if key:
            node["x-kubernetes-list-type"] = "map"
            node["x-kubernetes-list-map-keys"] = [key]
    if node.get("x-kubernetes-int-or-string"):
        node.pop("type", None)
    if "enum" in node and "type" not in node:
        node["type"] = "string"
    return node


def _with_object_defaults(schema: Schema, model: type[BaseModel]) -> Schema:
    """Sub-objects built by `default_factory` get a default so the API server fills them in. The default is the
    object with its own fields' defaults already in it: kube-apiserver checks a default against the CEL rules of
    its object without defaulting inside it, so `{}` fails a rule that reads `self.method`."""
    props = schema.get("properties", {})
    for field_name, info in model.model_fields.items():
        alias = info.alias or field_name
        sub = props.get(alias)
        if sub is None:
            continue
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            _with_object_defaults(sub, annotation)
            if info.default_factory is not None and "default" not in sub:
                sub["default"] = {
                    name: prop["default"] for name, prop in sub.get("properties", {}).items() if "default" in prop
                }
    return schema


def _version(
    spec: type[BaseModel], status: type[BaseModel], *, scale: bool, columns: list[dict[str, Any]]
) -> dict[str, Any]:
    spec_schema = _with_object_defaults(structural(spec), spec)
    spec_schema["description"] = (spec.__doc__ or "").strip()
    status_schema = structural(status)
    subresources: dict[str, Any] = {"status": {}}
    if scale:
        subresources["scale"] = {
            "specReplicasPath": ".spec.replicas",
            "statusReplicasPath": ".status.replicas",
            "labelSelectorPath": ".status.selector",
        }
    return {
        "name": API_VERSION,
        "served": True,
        "storage": True,
        "schema": {
            "openAPIV3Schema": {
                "type": "object",
                "required": ["spec"],
                "properties": {
                    "apiVersion": {"type": "string", "description": "genaiops.dev/v1alpha1"},
                    "kind": {"type": "string", "description": "The kind of the object."},
                    "metadata": {"type": "object"},
                    "spec": spec_schema,
                    "status": status_schema,
                },
            }
        },
        "subresources": subresources,
        "additionalPrinterColumns": columns,
    }


def _crd(
    kind: str, plural: str, scope: str, short: list[str], categories: list[str], version: dict[str, Any]
) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{plural}.{API_GROUP}",
            "labels": {"app.kubernetes.io/name": "genai-operator", "app.kubernetes.io/part-of": "genai-operator"},
        },
        "spec": {
            "group": API_GROUP,
            "scope": scope,
            "names": {
                "kind": kind,
                "listKind": f"{kind}List",
                "plural": plural,
                "singular": kind.lower(),
                "shortNames": short,
                "categories": categories,
            },
            "versions": [version],
        },
    }


def model_deployment_crd() -> dict[str, Any]:
    columns: list[dict[str, Any]] = [
        {"name": "Model", "type": "string", "jsonPath": ".spec.model.uri"},
        {"name": "Engine", "type": "string", "jsonPath": ".status.sizing.engine"},
        {"name": "Precision", "type": "string", "jsonPath": ".status.sizing.precision"},
        {"name": "Replicas", "type": "integer", "jsonPath": ".status.replicas"},
        {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        {"name": "Task", "type": "string", "jsonPath": ".spec.task", "priority": 1},
        {"name": "Pools", "type": "string", "jsonPath": ".status.placement[*].pool", "priority": 1},
        {"name": "Endpoint", "type": "string", "jsonPath": ".status.endpoint", "priority": 1},
    ]
    version = _version(ModelDeploymentSpec, ModelDeploymentStatus, scale=True, columns=columns)
    return _crd("ModelDeployment", "modeldeployments", "Namespaced", ["mdep", "md"], ["genai"], version)


def placement_pool_crd() -> dict[str, Any]:
    columns: list[dict[str, Any]] = [
        {"name": "Tier", "type": "string", "jsonPath": ".spec.tier"},
        {"name": "GPU", "type": "string", "jsonPath": ".status.gpuType"},
        {"name": "Nodes", "type": "integer", "jsonPath": ".status.nodes"},
        {"name": "GPUs", "type": "integer", "jsonPath": ".status.gpusAllocatable"},
        {"name": "Free", "type": "integer", "jsonPath": ".status.gpusFree"},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]
    version = _version(PlacementPoolSpec, PlacementPoolStatus, scale=False, columns=columns)
    return _crd("PlacementPool", "placementpools", "Cluster", ["pool"], ["genai"], version)


def all_crds() -> dict[str, dict[str, Any]]:
    """File name under crds/ -> CRD object."""
    return {
        f"modeldeployments.{API_GROUP}.yaml": model_deployment_crd(),
        f"placementpools.{API_GROUP}.yaml": placement_pool_crd(),
    }
