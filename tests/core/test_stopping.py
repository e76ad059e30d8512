"""Role loops' pauses: a stop cuts them short, and a cancellation swallowed earlier ends them."""

from __future__ import annotations

import asyncio
import threading

from core.stopping import sleep_unless_stopped, unless_stopped


async def test_a_pause_wakes_when_stop_is_set() -> None:
    stop = asyncio.Event()
    pause = asyncio.create_task(sleep_unless_stopped(stop, 3600))
    await asyncio.sleep(0)
    stop.set()
    assert await asyncio.wait_for(pause, 30) is True


async def test_a_pause_ends_a_loop_whose_cancellation_a_library_swallowed() -> None:
    stop, swallowed, waiting = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def loop() -> None:
        while not stop.is_set():
            try:
                waiting.set()
                await asyncio.sleep(3600)
            except asyncio.CancelledError:  # as a helper that answers "failed" would
                swallowed.set()
            await sleep_unless_stopped(stop, 3600)

    task = asyncio.create_task(loop())
    try:
        await asyncio.wait_for(waiting.wait(), 30)
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=30)
        assert done, "the loop went on after it was cancelled"
        assert swallowed.is_set() and task.cancelled()
    finally:
        stop.set()


async def test_start_up_work_gives_way_to_a_stop_and_otherwise_returns_its_result() -> None:
    stop, release, entered = asyncio.Event(), threading.Event(), threading.Event()

    def load() -> str:  # a model load that takes longer than the drain deadline
        entered.set()
        release.wait(60)
        return "model"

    waiting = asyncio.create_task(unless_stopped(stop, asyncio.to_thread(load)))
    try:
        assert await asyncio.to_thread(entered.wait, 30)
        stop.set()
        assert await asyncio.wait_for(waiting, 30) is None  # while the thread still runs
    finally:
        release.set()
    assert await unless_stopped(asyncio.Event(), asyncio.to_thread(load)) == "model"
