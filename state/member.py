"""What every member-specific handler starts with: who is this, and run domain calls."""

from __future__ import annotations

import reflex as rx

from state.session import SessionState


async def member_id(state: rx.State) -> int | None:
    """The verified member of this tab; None before binding (never from the client)."""
    session = await state.get_state(SessionState)
    return await session.ensure_bound()


async def set_balance(state: rx.State, balance: int) -> None:
    """A write returned the new balance: show it at once, everywhere."""
    session = await state.get_state(SessionState)
    session.balance = balance
