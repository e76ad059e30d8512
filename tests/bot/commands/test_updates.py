"""The per-chat update processor: order within a chat, no slot held while queued, a bound."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update

from bot.commands.updates import PerChatUpdateProcessor, chat_key


def _update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, "private")
    return Update(update_id, message=Message(update_id, datetime.now(UTC), chat))


async def _handle(name: str, done: list[str], gate: asyncio.Event | None = None) -> None:
    if gate is not None:
        await gate.wait()
    done.append(name)


async def test_queued_update_of_a_busy_chat_leaves_the_slot_to_other_chats() -> None:
    proc = PerChatUpdateProcessor(max_running=2, max_pending=5)
    gate, done = asyncio.Event(), list[str]()
    tasks = [
        asyncio.create_task(proc.process_update(_update(1, 10), _handle("a1", done, gate))),
        asyncio.create_task(proc.process_update(_update(2, 10), _handle("a2", done))),
        asyncio.create_task(proc.process_update(_update(3, 20), _handle("b1", done))),
    ]
    # a1 holds one running slot; a2 waits for a1 without a slot, so b1 gets the other.
    await asyncio.wait_for(tasks[2], 10)
    assert done == ["b1"]
    gate.set()
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    assert done == ["b1", "a1", "a2"]


async def test_a_chat_beyond_its_bound_is_dropped_and_others_are_not() -> None:
    proc = PerChatUpdateProcessor(max_running=4, max_pending=2)
    gate, done = asyncio.Event(), list[str]()
    kept = [
        asyncio.create_task(proc.process_update(_update(n, 10), _handle(f"a{n}", done, gate)))
        for n in (1, 2)
    ]
    for n in (3, 4, 5):  # over the bound: dropped at once, never run
        await asyncio.wait_for(proc.process_update(_update(n, 10), _handle(f"a{n}", done)), 10)
    await asyncio.wait_for(proc.process_update(_update(6, 20), _handle("b1", done)), 10)
    gate.set()
    await asyncio.wait_for(asyncio.gather(*kept), 10)
    assert done == ["b1", "a1", "a2"]
    assert proc.dropped == 3
    # The chat drained, so its next update is accepted again.
    await asyncio.wait_for(proc.process_update(_update(7, 10), _handle("a7", done)), 10)
    assert done[-1] == "a7"


def test_chat_key_is_the_chat_and_none_for_non_updates() -> None:
    assert chat_key(_update(1, -100)) == -100
    assert chat_key(object()) is None
