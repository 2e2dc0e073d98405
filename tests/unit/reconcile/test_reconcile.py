"""Pure reconcile: drift detection (subset semantics), actions, condition transitions, events."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from genai_operator.reconcile.diff import diff_children, is_drifted, is_subset
from genai_operator.status.conditions import condition, merge_conditions
from genai_operator.status.events import Event, transition_events


def deployment(replicas: int = 1, image: str = "vllm:1") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "m-pool", "namespace": "ns", "labels": {"a": "b"}},
        "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "e", "image": image}]}}},
    }


def server_copy(obj: dict[str, Any]) -> dict[str, Any]:
    """What the API server returns: our fields plus defaults, identity and status."""
    out = copy.deepcopy(obj)
    out["metadata"].update({"uid": "u1", "resourceVersion": "7", "labels": {**obj["metadata"]["labels"], "x": "y"}})
    out["spec"]["progressDeadlineSeconds"] = 600
    out["spec"]["template"]["spec"]["containers"][0]["terminationMessagePath"] = "/dev/termination-log"
    out["status"] = {"readyReplicas": 1}
    return out


def test_server_defaults_and_foreign_labels_are_not_drift() -> None:
    desired = deployment()
    assert not is_drifted(desired, server_copy(desired))


def test_changed_field_or_list_length_is_drift() -> None:
    observed = server_copy(deployment())
    assert is_drifted(deployment(replicas=3), observed)
    assert is_drifted(deployment(image="vllm:2"), observed)
    longer = deployment()
    longer["spec"]["template"]["spec"]["containers"].append({"name": "sidecar"})
    assert is_drifted(longer, observed)


def test_subset_treats_bools_and_ints_strictly() -> None:
    assert not is_subset(True, 1)
    assert is_subset({"a": [1, {"b": 2}]}, {"a": [1, {"b": 2, "c": 3}], "d": 4})
    assert not is_subset("1", 1) and not is_subset({"a": "x"}, {"a": None}) and not is_subset({"a": "x"}, ["a"])


def reference_subset(desired: Any, observed: Any) -> bool:
    """The plain definition the fast `is_subset` must agree with."""
    if isinstance(desired, dict):
        return isinstance(observed, dict) and all(
            k in observed and reference_subset(v, observed[k]) for k, v in desired.items()
        )
    if isinstance(desired, list):
        return (
            isinstance(observed, list)
            and len(desired) == len(observed)
            and all(reference_subset(d, o) for d, o in zip(desired, observed, strict=True))
        )
    if isinstance(desired, bool) or isinstance(observed, bool):
        return type(desired) is type(observed) and desired == observed
    return bool(desired == observed)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2, 2) | st.sampled_from([0.0, 1.0, 1.5]) | st.sampled_from(["", "a", "1"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(JSON, JSON, JSON)
def test_subset_agrees_with_its_plain_definition(desired: Any, other: Any, extra: Any) -> None:
    assert is_subset(desired, other) == reference_subset(desired, other)
    assert is_subset(desired, copy.deepcopy(desired))
    if isinstance(desired, dict):  # what a server adds (defaults, status) is never drift
        assert is_subset(desired, {**{"zz": extra}, **copy.deepcopy(desired)})


def test_diff_creates_replaces_and_deletes() -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "m", "namespace": "ns"},
        "spec": {"ports": [{"port": 8000}]},
    }
    stale_hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "m", "namespace": "ns", "uid": "h1"},
        "spec": {},
    }
    observed = {
        ("Deployment", "m-pool"): server_copy(deployment(replicas=1)),
        ("HorizontalPodAutoscaler", "m"): stale_hpa,
    }
    actions = diff_children([deployment(replicas=2), service], observed)
    assert [(a.verb, a.resource.kind, a.name) for a in actions] == [
        ("replace", "Deployment", "m-pool"),
        ("create", "Service", "m"),
        ("delete", "HorizontalPodAutoscaler", "m"),
    ]
    replacement = actions[0].obj
    assert replacement["metadata"]["resourceVersion"] == "7"  # optimistic concurrency
    assert replacement["metadata"]["labels"] == {"a": "b", "x": "y"}  # others' labels kept


def test_converged_children_produce_no_action() -> None:
    desired = [deployment()]
    assert diff_children(desired, {("Deployment", "m-pool"): server_copy(desired[0])}) == []


def test_last_transition_time_moves_only_when_status_flips() -> None:
    first = merge_conditions(None, [condition("Ready", False, "NotReady", "0/1")], "T1", 1)
    same = merge_conditions(first, [condition("Ready", False, "StillNot", "0/1 still")], "T2", 2)
    flipped = merge_conditions(same, [condition("Ready", True, "Ready", "1/1")], "T3", 2)
    assert first[0]["lastTransitionTime"] == "T1"
    assert same[0]["lastTransitionTime"] == "T1" and same[0]["reason"] == "StillNot"
    assert flipped[0]["lastTransitionTime"] == "T3" and flipped[0]["observedGeneration"] == 2


def test_events_only_on_transitions() -> None:
    not_ready = {"conditions": [condition("Ready", False, "R", "0/2")], "placement": [{"replicas": 2}]}
    ready = {"conditions": [condition("Ready", True, "R", "2/2")], "placement": [{"replicas": 2}]}
    scaled = {"conditions": [condition("Ready", True, "R", "3/3")], "placement": [{"replicas": 3}]}
    invalid = {"conditions": [condition("SpecValid", False, "InvalidSpec", "spec.x: bad")]}
    assert transition_events(None, not_ready, created=3) == []  # a new object's first children are no news
    assert transition_events(ready, ready, created=1) == [Event("Normal", "Created", "created 1 object(s)")]
    assert [e.reason for e in transition_events(not_ready, ready, 0)] == ["Ready"]
    assert transition_events(ready, ready, 0) == []
    assert [e.reason for e in transition_events(ready, scaled, 0)] == ["Scaled"]
    assert [(e.type, e.reason) for e in transition_events({}, invalid, 0)] == [("Warning", "InvalidSpec")]


def test_merge_patch_removes_deleted_keys_and_recurses() -> None:
    from genai_operator.status.merge_patch import merge_patch

    old = {"a": 1, "gone": 2, "sizing": {"x": 1, "stale": 2}, "list": [1, 2]}
    new = {"a": 1, "sizing": {"x": 2}, "list": [1], "added": True}
    assert merge_patch(old, new) == {"gone": None, "sizing": {"x": 2, "stale": None}, "list": [1], "added": True}
    assert merge_patch(new, new) == {}
