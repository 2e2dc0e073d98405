"""CreatedChildren (reconcile/expectations.py): a child we created stands in for the index until the watch
delivers it or its TTL passes, and deleted or forgotten ones stop standing in."""

from __future__ import annotations

from genai_operator.reconcile.expectations import CreatedChildren

DEP = ("Deployment", "m-pool")
SVC = ("Service", "m")


def test_created_children_fill_the_gap_until_indexed_or_expired() -> None:
    expected = CreatedChildren(ttl=10)
    expected.remember("m", [(DEP, {"kind": "Deployment"}), (SVC, {"kind": "Service"})], now=0)
    assert set(expected.fill("m", {}, now=1)) == {DEP, SVC}  # the index has neither yet
    indexed = {DEP: {"kind": "Deployment", "status": {"readyReplicas": 1}}}
    filled = expected.fill("m", indexed, now=2)
    assert filled[DEP] is indexed[DEP] and SVC in filled  # the index wins once it has the child
    assert len(expected) == 1
    assert expected.fill("m", {}, now=20) == {}  # past the TTL: no longer assumed (a relist would show it)
    assert len(expected) == 0


def test_deleted_and_forgotten_children_stop_standing_in() -> None:
    expected = CreatedChildren()
    expected.remember("m", [(DEP, {}), (SVC, {})], now=0)
    expected.drop("m", [DEP])
    assert set(expected.fill("m", {}, now=1)) == {SVC}
    expected.forget("m")
    assert expected.fill("m", {}, now=1) == {} and len(expected) == 0
    assert expected.fill("other", {SVC: {}}, now=1) == {SVC: {}}
