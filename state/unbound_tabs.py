"""A tab that has bound no member is kept in Redis for minutes, not for Reflex's 6 hours.

Reflex stores every tab's state for `redis_token_expiration` after its last event, bound to
a member or not. A tab outside Telegram, with a forged or expired launch, or a script that
opens sockets and never sends initData would each leave its state behind for hours; the
client-storage vars are bounded (state/client_vars.py), but their count is not. So after
each save of a tab whose session binds nobody, all of that tab's keys get UNBOUND_TTL_S;
when the tab binds a member, they get Reflex's full expiration back.

A bound tab pays nothing: the extra round trip happens only while the tab is unbound, and
once when it binds. A tab whose login expired (SessionState._expired) goes the same way
from its next event on: its state is then gone UNBOUND_TTL_S later.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import reflex as rx
from reflex.istate.manager.redis import StateManagerRedis
from reflex.istate.manager.token import BaseStateToken
from reflex.state import BaseState

from state.session import SessionState

# Long enough for a launch to bind (the first events of a tab come before its bind),
# short enough that a flood of anonymous tabs leaves nothing for long.
UNBOUND_TTL_S = 300


def _classes(cls: type[BaseState]) -> Iterator[type[BaseState]]:
    yield cls
    for sub in cls.get_substates():
        yield from _classes(sub)


def _session(state: BaseState) -> SessionState | None:
    session = state._get_root_state().substates.get(SessionState.get_name())
    return session if isinstance(session, SessionState) else None


class UnboundExpiry:
    def __init__(self, manager: StateManagerRedis) -> None:
        self.manager = manager
        self.keyed = list(_classes(rx.State))

    def wrap(self, set_state: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(set_state)
        async def saved(token: Any, state: Any, **kwargs: Any) -> Any:
            session = _session(state) if isinstance(state, BaseState) else None
            if session is None or not isinstance(token, BaseStateToken):
                return await set_state(token, state, **kwargs)
            was_short, short = session._short_lived, not session._user_id
            if was_short != short:
                # Only on a change: setting it marks the session for saving.
                session._short_lived = short
            result = await set_state(token, state, **kwargs)
            if short:
                await self._expire(token, UNBOUND_TTL_S)
            elif was_short:
                await self._expire(token, self.manager.token_expiration)
            return result

        saved.unbound_expiry = self  # type: ignore[attr-defined]
        return saved

    async def _expire(self, token: BaseStateToken, seconds: int) -> None:
        # Every state class of the tree, loaded in this event or not: a substate saved by
        # an earlier event keeps that event's expiration otherwise.
        pipeline = self.manager.redis.pipeline(transaction=False)
        for cls in self.keyed:
            pipeline.expire(token._state_key(cls), seconds)
        await pipeline.execute()


def install(app: rx.App) -> UnboundExpiry | None:
    manager = app.state_manager
    if not isinstance(manager, StateManagerRedis):
        return None  # in-process states live with the process
    if (done := getattr(manager.set_state, "unbound_expiry", None)) is not None:
        return done
    expiry = UnboundExpiry(manager)
    manager.set_state = expiry.wrap(manager.set_state)  # type: ignore[method-assign]
    return expiry
