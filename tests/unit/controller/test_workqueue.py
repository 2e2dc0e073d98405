"""The reconcile work queue: deduplication, re-run after a dirty pass, backoff and forget, follow-ups taking
turns with new work, and `hurry` ending a throttle wait."""

from __future__ import annotations

import asyncio

from genai_operator.controller.workqueue import WorkQueue


async def test_duplicate_adds_coalesce() -> None:
    queue: WorkQueue[str] = WorkQueue()
    for _ in range(100):
        queue.add("a")
    queue.add("b")
    assert len(queue) == 2
    assert await queue.get() == "a"
    assert await queue.get() == "b"


async def test_add_while_processing_reruns_once_after_done() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    key = await queue.get()
    queue.add("a")
    queue.add("a")
    assert len(queue) == 0  # not handed to a second worker while the first still runs
    queue.done(key)
    assert len(queue) == 1


async def test_retry_backs_off_exponentially_and_forget_resets() -> None:
    queue: WorkQueue[str] = WorkQueue(base_delay=0.01, max_delay=0.04)
    delays = [queue.retry("a") for _ in range(4)]
    assert delays[0] < delays[2] and max(delays) <= 0.04 * 1.2
    assert queue.retry("b", at_least=0.05) >= 0.05
    queue.forget("a")
    assert queue.retry("a") <= 0.012
    await asyncio.sleep(0.1)
    assert {await queue.get(), await queue.get()} == {"a", "b"}
    queue.close()


async def test_follow_ups_take_turns_with_new_work() -> None:
    queue: WorkQueue[str] = WorkQueue()
    for key in ("new-1", "new-2", "new-3"):
        queue.add(key)
    queue.add("ready-1", follow_up=True)
    queue.add("ready-2", follow_up=True)
    order = [await queue.get() for _ in range(5)]
    # Not behind every new key, and not starving them either.
    assert order == ["ready-1", "new-1", "ready-2", "new-2", "new-3"]


async def test_hurry_ends_a_throttle_wait_with_one_pass() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add_soon("a", 0.05)
    assert len(queue) == 0
    queue.hurry("a")
    assert len(queue) == 1 and await queue.get() == "a"
    queue.done("a")
    await asyncio.sleep(0.1)
    assert len(queue) == 0  # the throttle's timer was cancelled: no second pass
