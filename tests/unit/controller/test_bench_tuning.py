"""The scale tunings the benchmark led to, checked for behaviour (never for speed): loop settings from the
environment, Kopf's start-up toggles waking waiters only on a flip, and what counts as capacity growth."""

from __future__ import annotations

import asyncio

import pytest
from kopf._cogs.aiokits import aiotoggles

from genai_operator.controller.kopf_setup import quiet_index_toggles, run_options
from genai_operator.controller.runtime import RunOptions
from genai_operator.planning.capacity import CapacitySnapshot
from genai_operator.settings import Settings, SettingsError


def test_loop_settings_from_the_environment() -> None:
    defaults = RunOptions()
    unset = run_options(Settings.from_env({}), kubeconfig=None, metrics_port=0)
    assert (unset.workers, unset.resync_seconds) == (defaults.workers, defaults.resync_seconds)
    env = {"GENAI_OPERATOR_RESYNC_SECONDS": "2.5", "GENAI_OPERATOR_WORKERS": "12"}
    tuned = run_options(Settings.from_env(env), kubeconfig=None, metrics_port=0)
    assert (tuned.workers, tuned.resync_seconds) == (12, 2.5)
    with pytest.raises(SettingsError, match="GENAI_OPERATOR_WORKERS=0: not positive"):
        Settings.from_env({"GENAI_OPERATOR_WORKERS": "0"})


async def test_index_toggles_release_waiters_when_all_are_dropped_only() -> None:
    quiet_index_toggles()
    quiet_index_toggles()  # idempotent
    indexed = aiotoggles.ToggleSet(all)
    toggles = [await indexed.make_toggle(name=f"object-{i}") for i in range(50)]
    wakeups = 0
    original = indexed._condition.notify_all

    def counting() -> None:
        nonlocal wakeups
        wakeups += 1
        original()

    indexed._condition.notify_all = counting  # type: ignore[method-assign]
    waiters = [asyncio.create_task(indexed.wait_for(True)) for _ in range(20)]
    await asyncio.sleep(0)
    for toggle in toggles[:-1]:
        await indexed.drop_toggle(toggle)
    await asyncio.sleep(0)
    assert not any(w.done() for w in waiters) and wakeups == 0
    await indexed.drop_toggles([toggles[-1]])
    await asyncio.wait_for(asyncio.gather(*waiters), 5)
    assert wakeups == 1 and indexed.is_on()


async def test_a_paused_set_still_wakes_on_each_flip() -> None:
    quiet_index_toggles()
    paused = aiotoggles.ToggleSet(any)
    waiter = asyncio.create_task(paused.wait_for(True))
    flag = await paused.make_toggle(True, name="peering conflict")  # off -> on
    await asyncio.wait_for(waiter, 5)
    waiter = asyncio.create_task(paused.wait_for(False))
    await flag.turn_to(False)  # an individual toggle still notifies on its own
    await asyncio.wait_for(waiter, 5)
    await paused.drop_toggle(flag)
    assert paused.is_off()


def test_capacity_grows_with_nodes_pools_or_freed_gpus_only() -> None:
    before = CapacitySnapshot(frozenset({"node-a", "node-b"}), {"node-a": 2})
    taken = CapacitySnapshot(frozenset({"node-a", "node-b"}), {"node-a": 3, "node-b": 1})
    assert not taken.may_have_grown_since(before)  # more GPUs in use: no Ready plan can change
    freed = CapacitySnapshot(frozenset({"node-a", "node-b"}), {"node-a": 1})
    assert freed.may_have_grown_since(before)
    node_added = CapacitySnapshot(frozenset({"node-a", "node-b", "node-c"}), {"node-a": 2})
    assert node_added.may_have_grown_since(before)
    # Taken and freed again between the two looks: the snapshots agree, the peak in between does not.
    same = CapacitySnapshot(frozenset({"node-a", "node-b"}), {"node-a": 2})
    assert not same.may_have_grown_since(before, {"node-a": 2})
    assert same.may_have_grown_since(before, {"node-a": 2, "node-b": 1})
