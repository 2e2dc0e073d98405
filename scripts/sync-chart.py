#!/usr/bin/env python3
"""Keep the Helm chart in step with the API: run after `genai-operator crd --output-dir crds`.

1. copies crds/*.yaml byte for byte into charts/genai-operator/crds/ (Helm installs them on first install);
2. rewrites `definitions.placementPoolSpec` of charts/genai-operator/values.schema.json from the
   PlacementPool CRD's spec schema, so `pools` in values is validated like `kubectl apply` would.

`--check` changes nothing and exits 1 when the chart is out of date (tests/tools/test_chart.py runs the same check).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CRDS = ROOT / "crds"
CHART = ROOT / "charts" / "genai-operator"
SCHEMA = CHART / "values.schema.json"
POOL_CRD = "placementpools.genaiops.dev.yaml"


def json_schema(node: Any) -> Any:
    """A CRD structural schema as plain JSON Schema: x-kubernetes-* extensions dropped (int-or-string
    becomes anyOf), and objects with properties closed, as the pydantic models reject unknown fields."""
    if isinstance(node, list):
        return [json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: json_schema(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    if node.get("x-kubernetes-int-or-string"):
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


def pool_spec_schema() -> dict[str, Any]:
    crd = yaml.safe_load((CRDS / POOL_CRD).read_text(encoding="utf-8"))
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    schema: dict[str, Any] = json_schema(spec)
    return schema


def render_schema() -> str:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    schema.setdefault("definitions", {})["placementPoolSpec"] = pool_spec_schema()
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report drift, change nothing")
    args = parser.parse_args(argv)
    stale: list[str] = []
    sources = sorted(CRDS.glob("*.yaml"))
    wanted = {p.name for p in sources}
    for extra in sorted((CHART / "crds").glob("*.yaml")):
        if extra.name not in wanted:
            stale.append(f"{extra.relative_to(ROOT)} has no source in crds/")
            if not args.check:
                extra.unlink()
    for source in sources:
        target = CHART / "crds" / source.name
        if not target.exists() or target.read_bytes() != source.read_bytes():
            stale.append(f"{target.relative_to(ROOT)} differs from {source.relative_to(ROOT)}")
            if not args.check:
                target.write_bytes(source.read_bytes())
    text = render_schema()
    if SCHEMA.read_text(encoding="utf-8") != text:
        stale.append(f"{SCHEMA.relative_to(ROOT)}: definitions.placementPoolSpec differs from the CRD")
        if not args.check:
            SCHEMA.write_text(text, encoding="utf-8")
    for line in stale:
        print(("stale: " if args.check else "updated: ") + line)
    return 1 if (stale and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
