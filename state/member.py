"""What every screen that needs the member shares: who the member is, the screen's
messages, and the steps of a member's action (claim, buy, send)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import reflex as rx

from app.cache.rate_limits import RateLimited, get_rate_limits
from app.domain.errors import DomainError
from state.haptics import haptic
from state.session import SessionState

R = TypeVar("R")


async def member_id(state: rx.State) -> int | None:
    """The verified member of this tab; None before binding (never from the client)."""
    session = await state.get_state(SessionState)
    return await session.ensure_bound()


async def set_balance(state: rx.State, balance: int) -> None:
    """A write returned the new balance: show it at once, everywhere."""
    session = await state.get_state(SessionState)
    session.balance = balance


class MemberScreen(rx.State, mixin=True):
    """A screen state for members: `class HomeState(MemberScreen, rx.State)`.

    Its helpers start with an underscore: every public method of a state is an event any
    client can send, with any arguments."""

    error: str = ""
    notice: str = ""

    async def _member(self) -> int | None:
        return await member_id(self)

    async def _act(
        self,
        busy: str,
        run: Callable[[int], Awaitable[R]],
        done: Callable[[R], Awaitable[list[Any] | None]],
        failed: Callable[[DomainError], Awaitable[None]] | None = None,
    ) -> AsyncIterator[Any]:
        """A member's action, from a press to its haptic: `async for step in
        self._act(...): yield step` in the handler.

        Nothing without a bound member, nor while `busy` (the state's flag for this
        action, which spins its button) is set: a second press while the first runs is
        ignored. The last messages are cleared and the spinner shown at once; then
        `run(member id)` (the domain call, off the loop with `call`) within the member's
        write budget (RATE_WRITES), and either a refusal on screen (its `DomainError`, and
        `failed`, or the rate limit's message) or `done(result)`, with the result's new
        balance shown everywhere; the haptic says which. Events `done` returns (e.g. a
        form draft's clearing) go to the page with the haptic, in the update that shows the
        result."""
        uid = await self._member()
        if uid is None or getattr(self, busy):
            return
        after: list[Any] = []
        setattr(self, busy, True)
        self.error = self.notice = ""
        yield
        try:
            # The same per-member budget as REST writes (RATE_WRITES), across every tab.
            await asyncio.to_thread(get_rate_limits().hit, "writes", uid)
            result = await run(uid)
        except RateLimited as exc:
            self.error = exc.message
        except DomainError as exc:
            self.error = exc.message
            if failed is not None:
                await failed(exc)
        else:
            balance = getattr(result, "balance", None)
            if isinstance(balance, int):
                await set_balance(self, balance)
            after = await done(result) or []
        finally:
            setattr(self, busy, False)
        yield [haptic("error" if self.error else "success"), *after]
