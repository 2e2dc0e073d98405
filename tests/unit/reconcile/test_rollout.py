"""Rollout strategy per pool (rollout.py: surge when the pool has room, one at a time when not, decided when
a rollout starts and then kept; chosen as values, applied to new desired objects without editing the rendered
ones) and the fields the API server freezes (reconcile/frozen_fields.py: claims only
grow, StatefulSet claim templates stay)."""

from __future__ import annotations

import copy
from typing import Any

from genai_operator.placement.types import PoolCapacity
from genai_operator.reconcile.diff import diff_children
from genai_operator.reconcile.rollout import ONE_AT_A_TIME, choose_rollouts, rollout_names, with_rollouts
from genai_operator.render import render_children
from support.render_fixtures import assign, decision, manifest, pool


def with_capacity(free_per_node: tuple[int, ...], *, autoscaled: bool = False) -> Any:
    target = pool()
    capacity = PoolCapacity(
        nodes=len(free_per_node),
        gpus_total=sum(free_per_node) + 8,
        gpus_allocatable=sum(free_per_node) + 8,
        gpus_requested=8,
        max_gpus_per_node=8,
        free_gpus_per_node=free_per_node,
    )
    from dataclasses import replace

    return replace(target, capacity=capacity, autoscaled=autoscaled)


def rendered(md: Any, placed: Any) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in render_children(md, placed, owner_uid="u")}


def names(md: Any, desired: list[dict[str, Any]], observed: Any, placed: Any) -> dict[str, str]:
    return rollout_names(choose_rollouts(md.metadata.name, desired, observed, placed))


def strategy(objects: list[dict[str, Any]]) -> dict[str, Any]:
    dep = next(o for o in objects if o["kind"] == "Deployment")
    update: dict[str, Any] = dep["spec"]["strategy"]["rollingUpdate"]
    return update


def test_new_deployment_surges_and_unchanged_template_keeps_the_strategy() -> None:
    md = manifest(engine="VLLM", replicas=2)
    placed = decision(assign(with_capacity((0, 0)), replicas=2))  # a full pool
    desired = render_children(md, placed, owner_uid="u")
    assert names(md, desired, {}, placed) == {"cloud-l4": "Surge"}
    observed = {(o["kind"], o["metadata"]["name"]): copy.deepcopy(o) for o in desired}
    next_pass = render_children(md, placed, owner_uid="u")
    assert names(md, next_pass, observed, placed) == {"cloud-l4": "Surge"}
    assert diff_children(next_pass, observed) == []  # nothing to roll, nothing written


def test_template_change_on_a_full_pool_goes_one_at_a_time() -> None:
    md = manifest(engine="VLLM", replicas=2)
    full = decision(assign(with_capacity((1, 0)), replicas=2))  # 1 free GPU, 2 already ours: no extra slot
    observed = rendered(md, full)
    changed = manifest(engine="VLLM", replicas=2, model={"uri": "hf://meta-llama/Llama-3.1-8B-Instruct@v2"})
    desired = render_children(changed, full, owner_uid="u")
    rendered_before = copy.deepcopy(desired)
    rollouts = choose_rollouts("llama", desired, observed, full)
    assert rollout_names(rollouts) == {"cloud-l4": "OneAtATime"}
    assert strategy(with_rollouts(desired, rollouts)) == ONE_AT_A_TIME
    assert desired == rendered_before  # the rendered objects are left as they were
    roomy = decision(assign(with_capacity((4, 4)), replicas=2))
    desired = render_children(changed, roomy, owner_uid="u")
    rollouts = choose_rollouts("llama", desired, observed, roomy)
    assert rollout_names(rollouts) == {"cloud-l4": "Surge"}
    assert strategy(with_rollouts(desired, rollouts)) == {"maxSurge": 1, "maxUnavailable": 0}


def test_a_strategy_chosen_earlier_is_kept_while_the_template_is_unchanged() -> None:
    md = manifest(engine="VLLM", replicas=2)
    roomy = decision(assign(with_capacity((4, 4)), replicas=2))
    observed = rendered(md, roomy)
    dep = next(o for o in observed.values() if o["kind"] == "Deployment")
    dep["spec"]["strategy"] = {"type": "RollingUpdate", "rollingUpdate": dict(ONE_AT_A_TIME)}  # mid-rollout
    desired = render_children(md, roomy, owner_uid="u")
    rollouts = choose_rollouts("llama", desired, observed, roomy)
    assert rollout_names(rollouts) == {"cloud-l4": "OneAtATime"}
    applied = with_rollouts(desired, rollouts)
    assert strategy(applied) == ONE_AT_A_TIME and strategy(desired) == {"maxSurge": 1, "maxUnavailable": 0}
    assert diff_children(applied, observed) == []  # kept as the server has it: no write


def test_autoscaled_pools_always_surge() -> None:
    md = manifest(engine="VLLM", replicas=2)
    placed = decision(assign(with_capacity((0,), autoscaled=True), replicas=2))
    observed = rendered(md, placed)
    changed = manifest(engine="VLLM", replicas=2, serving={"maxConcurrentSequences": 8})
    desired = render_children(changed, placed, owner_uid="u")
    assert names(md, desired, observed, placed) == {"cloud-l4": "Surge"}


def test_claims_only_grow_and_statefulset_templates_stay() -> None:
    from genai_operator.reconcile.frozen_fields import within_frozen_fields

    claim = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "c"},
        "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "40Gi"}}},
    }
    current = copy.deepcopy(claim)
    current["spec"].update(volumeName="pv-1", storageClassName="nfs")
    current["status"] = {"phase": "Bound"}
    smaller = copy.deepcopy(claim)
    smaller["spec"]["resources"]["requests"]["storage"] = "20Gi"
    other_class = copy.deepcopy(claim)
    other_class["spec"]["storageClassName"] = "fast"
    assert within_frozen_fields(smaller, current) is None
    assert within_frozen_fields(other_class, current) is None
    bigger = copy.deepcopy(claim)
    bigger["spec"]["resources"]["requests"]["storage"] = "60Gi"
    grown = within_frozen_fields(bigger, current)
    assert grown is not None and grown["spec"]["volumeName"] == "pv-1" and "status" not in grown
    assert grown["spec"]["resources"]["requests"]["storage"] == "60Gi"
    assert [a.verb for a in diff_children([bigger], {("PersistentVolumeClaim", "c"): current})] == ["replace"]
    assert diff_children([smaller], {("PersistentVolumeClaim", "c"): current}) == []

    sts = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "s"},
        "spec": {
            "replicas": 2,
            "serviceName": "m",
            "volumeClaimTemplates": [{"spec": {"size": "new"}}],
            "template": {"spec": {"containers": [{"name": "engine", "image": "v2"}]}},
        },
    }
    live = copy.deepcopy(sts)
    live["spec"]["volumeClaimTemplates"] = [{"spec": {"size": "old"}}]
    live["spec"]["template"]["spec"]["containers"][0]["image"] = "v1"
    kept = within_frozen_fields(sts, live)
    assert kept is not None and kept["spec"]["volumeClaimTemplates"] == [{"spec": {"size": "old"}}]
    assert kept["spec"]["template"]["spec"]["containers"][0]["image"] == "v2"
