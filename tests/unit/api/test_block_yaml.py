"""The block-style YAML reader behind `plan` and `render` (api/block_yaml.py): it returns what
yaml.safe_load_all returns for what kubectl and yaml.safe_dump print, and refuses (so libyaml reads it)
everything else."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from genai_operator.api import block_yaml
from genai_operator.api.loading import read_documents
from support.paths import ROOT


def same_as_pyyaml(text: str) -> None:
    assert block_yaml.load_all(text) == list(yaml.safe_load_all(text))


def test_the_sample_inventory_and_a_synthetic_one() -> None:
    same_as_pyyaml((ROOT / "examples" / "inventory" / "nodes.yaml").read_text())
    sys.path.insert(0, str(ROOT / "bench"))
    import plan_scale

    nodes = {"apiVersion": "v1", "kind": "List", "items": plan_scale.synthetic_nodes(300, seed=3)}
    same_as_pyyaml(yaml.safe_dump(nodes))
    same_as_pyyaml(yaml.safe_dump_all([m.to_dict() for m in plan_scale.synthetic_models(50, seed=3)]))


def test_scalars_resolve_as_yaml_1_1_does() -> None:
    same_as_pyyaml(
        "a: yes\nb: 'yes'\nc: 0.8\nd: '0.8'\ne: 1:20\nf: 2024-01-01T00:00:00Z\ng:\nh: ~\ni: ''\nj: 'it''s'\n"
        'k: "plain"\nl: {}\nm: []\nn: 0x1F\no: -3\np: node-role.kubernetes.io/edge\n'
    )


def test_sequences_comments_and_documents() -> None:
    same_as_pyyaml(
        "# inventory\n---\nitems:\n- name: a\n  taints:\n  - key: k\n    effect: NoSchedule\n- name: b\n"
        "  list:\n    - 1\n    - 2\n-\n  x: 1\n---\n---\nkind: B\n"
    )


@pytest.mark.parametrize(
    "text",
    [
        "metadata: {name: a}\n",  # flow style (the examples' own)
        "a: &x 1\nb: *x\n",
        "a: |\n  text\n",
        "a: long\n  continued\n",
        "a: 1 # comment\n",
        'a: "esc\\n"\n',
        "a: 'open\n  quote'\n",
        "? complex\n: key\n",
        "a:\tb\n",
    ],
)
def test_everything_else_is_left_to_libyaml(text: str) -> None:
    with pytest.raises(block_yaml.UnsupportedYamlError):
        block_yaml.load_all(text)


def test_loading_falls_back_to_libyaml(tmp_path: Path) -> None:
    path = tmp_path / "md.yaml"
    path.write_text("kind: ModelDeployment\nmetadata: {name: a, namespace: ml}\n")
    assert read_documents(str(path))[0][1]["metadata"] == {"name": "a", "namespace": "ml"}


keys = st.text(alphabet="abcxyz-./0123456789", min_size=1, max_size=8)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet="abc xyz'-:#0123.456789yesnoTrue", max_size=12),
)
values: Any = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, values, min_size=1, max_size=5))
def test_whatever_safe_dump_prints_reads_back_the_same(document: dict[str, Any]) -> None:
    text = yaml.safe_dump(document, default_flow_style=False)
    try:
        fast = block_yaml.load_all(text)
    except block_yaml.UnsupportedYamlError:
        return  # libyaml reads it
    assert fast == list(yaml.safe_load_all(text))
