"""The bound on tab states held at once (state/lock_slots.py): a burst waits before the
lock, in arrival order, and a nested modification never waits for a second slot."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

from state import lock_slots


class Manager:
    """Stands in for Reflex's StateManager: only modify_state is wrapped."""

    def __init__(self) -> None:
        self.held = 0
        self.most_held = 0
        self.entered: list[int] = []

    @contextlib.asynccontextmanager
    async def modify_state(self, token: int) -> AsyncIterator[int]:
        self.held += 1
        self.most_held = max(self.most_held, self.held)
        self.entered.append(token)
        try:
            for _ in range(3):  # an event awaits Redis and the database a few times
                await asyncio.sleep(0)
            yield token
        finally:
            self.held -= 1


def _run(coro: Any) -> Any:  # Playwright's sync API may keep a loop running on this thread
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def _app(manager: Manager) -> Any:
    return SimpleNamespace(state_manager=manager)


def test_a_burst_holds_at_most_the_slots_and_enters_in_arrival_order() -> None:
    async def burst() -> Manager:
        manager = Manager()
        gate = lock_slots.install(_app(manager), 4)
        assert gate is not None

        async def event(token: int) -> None:
            async with manager.modify_state(token) as state:
                assert state == token

        tasks = [asyncio.create_task(event(n)) for n in range(200)]
        await asyncio.sleep(0)
        assert gate.in_use == 4
        assert gate.waiting == 196
        await asyncio.gather(*tasks)
        assert gate.in_use == 0
        return manager

    manager = _run(burst())
    assert manager.most_held == 4
    assert manager.entered == list(range(200))


def test_a_nested_modification_does_not_wait_for_a_second_slot() -> None:
    async def nested() -> list[int]:
        manager = Manager()
        lock_slots.install(_app(manager), 1)
        # With one slot, waiting for a second would deadlock.
        async with manager.modify_state(1), manager.modify_state(2):
            pass
        return manager.entered

    assert _run(asyncio.wait_for(nested(), 5)) == [1, 2]


def test_an_error_inside_frees_the_slot() -> None:
    async def failing() -> int:
        manager = Manager()
        gate = lock_slots.install(_app(manager), 1)
        assert gate is not None
        with contextlib.suppress(RuntimeError):
            async with manager.modify_state(1):
                raise RuntimeError("handler failed")
        async with manager.modify_state(2):
            pass
        return gate.in_use

    assert _run(asyncio.wait_for(failing(), 5)) == 0


def test_installed_once_and_zero_means_no_bound() -> None:
    manager = Manager()
    assert lock_slots.install(_app(manager), 0) is None
    assert not hasattr(manager.modify_state, "lock_slots")
    first = lock_slots.install(_app(manager), 8)
    assert lock_slots.install(_app(manager), 8) is first
