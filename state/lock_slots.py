"""At most N tab states held at once per process: a storm of events is served in turn.

Reflex runs every event as its own task and takes the tab's Redis lock (5 s, rxconfig)
before the handler starts. When hundreds of events arrive at once (the members of a
killed instance all re-hydrating on the survivor, an announcement), they all hold their
locks while interleaving on one event loop: each one takes as long as the whole burst,
the slowest overrun their locks, and Reflex shows "An error occurred" (LockExpiredError)
although the work was done. With slots, the waiting happens before the lock: each event
holds its lock only for about `slots` events' worth of CPU, and the burst is served
first come, first served (asyncio.Semaphore wakes waiters in order).

Every state modification goes through `StateManager.modify_state` (events, background
tasks' `async with self`, `app.modify_state` of live pushes), so the slots wrap that one
method. A task that already holds a slot (a nested modify_state, or a task started from
inside one) does not wait for a second one: that could only deadlock.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import reflex as rx
from prometheus_client import Histogram

WAIT_SECONDS = Histogram(
    "state_slot_wait_seconds",
    "Time a state modification (an event, a live refresh) waited for a free slot",
    buckets=(0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_holding: contextvars.ContextVar[bool] = contextvars.ContextVar("holding_state_slot", default=False)


class LockSlots:
    """The semaphore around one state manager's `modify_state`."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self.waiting = 0  # modifications waiting for a slot now
        self.in_use = 0
        self._semaphore = asyncio.Semaphore(slots)

    def wrap(self, modify_state: Callable[..., Any]) -> Callable[..., Any]:
        @contextlib.asynccontextmanager
        async def gated(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
            if _holding.get():
                async with modify_state(*args, **kwargs) as state:
                    yield state
                return
            started = time.perf_counter()
            self.waiting += 1
            try:
                await self._semaphore.acquire()
            finally:
                self.waiting -= 1
            WAIT_SECONDS.observe(time.perf_counter() - started)
            self.in_use += 1
            reset = _holding.set(True)
            try:
                async with modify_state(*args, **kwargs) as state:
                    yield state
            finally:
                _holding.reset(reset)
                self.in_use -= 1
                self._semaphore.release()

        gated.lock_slots = self  # type: ignore[attr-defined]
        return gated


def install(app: rx.App, slots: int) -> LockSlots | None:
    """Bound the tab states `app` holds at once to `slots` (0: no bound)."""
    if slots <= 0:
        return None
    manager = app.state_manager
    if (gate := getattr(manager.modify_state, "lock_slots", None)) is not None:
        return gate
    gate = LockSlots(slots)
    # An instance attribute: modify_state_with_links and app.modify_state both call
    # `manager.modify_state`, so they find this one.
    manager.modify_state = gate.wrap(manager.modify_state)  # type: ignore[method-assign]
    return gate
