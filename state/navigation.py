"""The app's screens, and remembering which one a member was on across app closes.

The per-user store (app/cache/store.py, the same one /cache serves) keeps the screen, so a
member who closes the Mini App, or whose tab state was lost, comes back where they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Sequence
from typing import Any

from app.cache import get_app_store
from app.cache.backends import BackendError
from app.cache.store import StoreError

logger = logging.getLogger(__name__)

# Routes a member may be sent back to; app.py registers every page here.
SCREENS: set[str] = {"/"}
SCREEN_KEY = "app_screen"
# Route, as Reflex names it in router.route_id ("/index" for "/", "/market/[item_id]")
# -> the events that fill that screen for a bound member (after identity). They run on
# every load, after a late bind and on resume.
SCREEN_EVENTS: dict[str, list[Any]] = {}


def reflex_route(route: str) -> str:
    return "/index" if route == "/" else route


def register_screen(route: str, events: Sequence[Any]) -> None:
    SCREEN_EVENTS[reflex_route(route)] = list(events)
    if "[" not in route:
        SCREENS.add(route)


def screen_events(page_path: str) -> list[Any]:
    return SCREEN_EVENTS.get(page_path, [])


def runs_inline(handler: Any) -> bool:
    """Whether fill_screen may call `handler` itself: a plain coroutine of a state class,
    taking nothing but the state (a generator streams deltas and a background task holds
    no lock: both must run as events of their own)."""
    fn = getattr(handler, "fn", None)
    if getattr(handler, "state", None) is None or getattr(handler, "is_background", True):
        return False
    if not inspect.iscoroutinefunction(fn):
        return False
    optional = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    params = list(inspect.signature(fn).parameters.values())[1:]  # after self
    return all(p.default is not p.empty or p.kind in optional for p in params)


async def fill_screen(state: Any, page_path: str) -> list[Any]:
    """Run the screen's events inside the current event; return what must still chain.

    Identity and the screen's data then reach the page in one delta: one server round of
    state lock, delta and emit, and one React render fewer before the first data shows
    (bench/frontend.py --against). The price: the page's header waits for the screen's
    reads too, which are cached and bounded by the database's timeouts.
    From the first handler that cannot run inline (see runs_inline), that one and all
    after it chain, in their order. A handler that fails here is logged and chained, so
    it runs once more as an event of its own and Reflex reports it as it would have
    (screen events are idempotent reads).
    """
    handlers = screen_events(page_path)
    rest: list[Any] = []
    for index, handler in enumerate(handlers):
        if not runs_inline(handler):
            return rest + list(handlers[index:])
        try:
            substate = await state.get_state(handler.state)
            chained = await handler.fn(substate)
        except Exception:
            logger.exception("%s failed inside the load; chained", handler.fn.__qualname__)
            rest.append(handler)
            continue
        if chained is not None:
            rest.extend(chained if isinstance(chained, list | tuple) else [chained])
    return rest


async def recall_screen(user_id: int) -> str | None:
    try:
        screen = await asyncio.to_thread(get_app_store().get, user_id, SCREEN_KEY)
    except (BackendError, StoreError):
        return None  # the store is down: start on the screen that was opened
    return screen if screen in SCREENS else None


async def remember_screen(user_id: int, path: str) -> None:
    if path not in SCREENS:
        return
    # A store that is down or refuses (never a reason to break the screen): not remembered.
    with contextlib.suppress(BackendError, StoreError):
        await asyncio.to_thread(get_app_store().put, user_id, SCREEN_KEY, path)
