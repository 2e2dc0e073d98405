"""Reading manifests: YAML documents -> validated API objects, with errors that name the field and the fix.
Input that is no manifest at all (binary, not UTF-8, endless, nested past any real object) is refused up front
with a ManifestError naming the file, so the CLI exits 2 within seconds instead of with a traceback or a hang."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from genai_operator.api import block_yaml
from genai_operator.api.modeldeployment import ModelDeployment
from genai_operator.api.placementpool import PlacementPool

T = TypeVar("T", bound=BaseModel)

# Hints appended to pydantic's message for fields whose constraint alone does not say what to write.
FIELD_HINTS: dict[str, str] = {
    "parameters": "write a count such as 8B, 70.6B or 500M",
    "uri": "write hf://org/model, s3://bucket/path, gs://bucket/path, oci://image, pvc://claim/path or file:///path",
    "target": 'write a number such as "4" or "80"',
    "costPerGpuHour": 'write a decimal string such as "2.50"',
    "credentialsSecret": "write the name of a Secret in the same namespace",
    "name": "use lower-case letters, digits and '-', at most 63 characters",
    "cpu": "write a Kubernetes quantity such as 4 or 500m",
    "memory": "write a Kubernetes quantity such as 16Gi",
}


# Far above any manifest or node inventory (5,000 nodes of `kubectl get nodes -o json` are ~30 MiB), far below
# what would take the parser minutes or the process gigabytes.
MAX_INPUT_BYTES = 128 << 20
# Kubernetes objects nest a dozen levels; deeper input would only overflow the recursion of what reads it next.
MAX_DEPTH = 100
CHUNK = 1 << 20


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the source, the field and the fix."""


def read_documents(path: str, stdin: IO[bytes] | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(source label, document) for every YAML document in a file, a directory of *.yaml, or '-' (`stdin`)."""
    if path == "-":
        return _parse(read_text(stdin, "<stdin>") if stdin is not None else "", "<stdin>")
    target = Path(path)
    if target.is_dir():
        files = sorted(p for p in target.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise ManifestError(f"{path}: no *.yaml files in this directory")
    elif target.exists():
        files = [target]
    else:
        raise ManifestError(f"{path}: no such file or directory")
    docs: list[tuple[str, dict[str, Any]]] = []
    for file in files:
        try:
            with file.open("rb") as reader:
                text = read_text(reader, str(file))
        except OSError as exc:
            raise ManifestError(
                f"{file}: cannot read it ({exc.strerror or exc}); pass a readable YAML or JSON file"
            ) from None
        docs.extend(_parse(text, str(file)))
    return docs


def read_text(reader: IO[bytes], source: str) -> str:
    """The input as text: at most MAX_INPUT_BYTES, no NUL byte (a binary file; /dev/zero stops at once), UTF-8."""
    chunks: list[bytes] = []
    size = 0
    while chunk := reader.read(CHUNK):
        nul = chunk.find(b"\0")
        if nul >= 0:
            raise ManifestError(
                f"{source}: binary data (a NUL byte at offset {size + nul}), not YAML or JSON; pass a manifest file"
            )
        size += len(chunk)
        if size > MAX_INPUT_BYTES:
            raise ManifestError(
                f"{source}: more than {MAX_INPUT_BYTES >> 20} MiB, far larger than manifests are "
                "(endless input?); pass the manifests themselves"
            )
        chunks.append(chunk)
    data = b"".join(chunks)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(
            f"{source}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8 YAML or JSON"
        ) from None


# libyaml's parser when PyYAML has it: pure-Python YAML takes ~20 s for a 5,000-node inventory, libyaml ~3 s.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_all(text: str) -> list[Any]:
    """YAML documents; JSON (`kubectl get nodes -o json`, valid YAML too) through json, ~50x faster still."""
    if text.lstrip()[:1] == "{":
        try:
            return [json.loads(text)]
        except ValueError:
            pass  # YAML flow style rather than JSON: the YAML parser reads it
    try:
        return block_yaml.load_all(text)  # kubectl's block style, ~5x faster than libyaml (block_yaml.py)
    except block_yaml.UnsupportedYamlError:
        return list(yaml.load_all(text, Loader=_LOADER))


def _parse(text: str, source: str) -> list[tuple[str, dict[str, Any]]]:
    too_deep = ManifestError(
        f"{source}: nested more than {MAX_DEPTH} levels deep, which no Kubernetes object is; pass a manifest file"
    )
    try:
        loaded = _load_all(text)
    except RecursionError:
        raise too_deep from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise ManifestError(f"{where}: YAML syntax error: {problem}") from None
    if _depth(loaded) > MAX_DEPTH:
        raise too_deep
    docs: list[tuple[str, dict[str, Any]]] = []
    for index, doc in enumerate(loaded):
        if doc is None:
            continue
        label = f"{source}#{index + 1}" if len(loaded) > 1 else source
        if not isinstance(doc, dict):
            raise ManifestError(f"{label}: expected a Kubernetes object (a mapping), got {type(doc).__name__}")
        if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            docs.extend((f"{label} item {i + 1}", item) for i, item in enumerate(doc["items"]))
        else:
            docs.append((label, doc))
    return docs


def _depth(value: Any) -> int:
    """How deep lists and mappings nest, without recursion; a YAML alias shared many times is visited once."""
    deepest, seen = 0, set()
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, dict | list) or id(node) in seen:
            continue
        seen.add(id(node))
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def describe_validation_error(exc: ValidationError) -> list[str]:
    """One line per problem: `spec.quantization.precision: <what is wrong>; <how to fix>`."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        kind = err["type"]
        if kind == "extra_forbidden":
            parent = ".".join(str(p) for p in err["loc"][:-1]) or "the object"
            message = (
                f"unknown field; check the spelling (fields of {parent} are listed by `kubectl explain`), or remove it"
            )
        elif kind == "missing":
            message = "required field is missing"
        elif kind in ("string_pattern_mismatch", "string_too_long") and err["loc"]:
            hint = FIELD_HINTS.get(str(err["loc"][-1]))
            if kind == "string_pattern_mismatch":
                message = f"invalid value {err.get('input')!r}"
            if hint:
                message = f"{message}; {hint}"
        elif kind == "string_type" and isinstance(err.get("input"), int | float) and err["loc"]:
            # YAML reads 0.8 or 4 unquoted as a number; these fields are strings (no floats in the API).
            field, value = err["loc"][-1], err["input"]
            message = f'{value} is a number, but this field is a string: quote it, e.g. {field}: "{value}"'
        elif kind == "literal_error" and err["loc"] and err["loc"][-1] == "apiVersion":
            message = f"{message}; this is a genaiops.dev/v1alpha1 resource"
        lines.append(f"{loc}: {message}" if loc else message)
    return lines


def validate(model: type[T], doc: dict[str, Any], source: str) -> T:
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        name = (doc.get("metadata") or {}).get("name", "?") if isinstance(doc.get("metadata"), dict) else "?"
        problems = "\n  ".join(describe_validation_error(exc))
        raise ManifestError(f"{source}: {doc.get('kind', '?')} {name!s} is invalid:\n  {problems}") from None


def split_manifests(
    docs: Iterable[tuple[str, dict[str, Any]]],
) -> tuple[list[ModelDeployment], list[PlacementPool], list[dict[str, Any]]]:
    """ModelDeployments, PlacementPools and Nodes from a mixed set of documents; other kinds are ignored."""
    deployments: list[ModelDeployment] = []
    pools: list[PlacementPool] = []
    nodes: list[dict[str, Any]] = []
    for source, doc in docs:
        kind = doc.get("kind")
        if kind == "ModelDeployment":
            deployments.append(validate(ModelDeployment, doc, source))
        elif kind == "PlacementPool":
            pools.append(validate(PlacementPool, doc, source))
        elif kind == "Node":
            nodes.append(doc)
        elif kind is None:
            raise ManifestError(f"{source}: missing `kind`; expected ModelDeployment")
    return deployments, pools, nodes
