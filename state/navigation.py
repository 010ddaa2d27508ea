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

from reflex.event import BACKGROUND_TASK_MARKER

from app.cache import get_store
from app.cache.backends import BackendError

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


async def fill_screen(state: Any, page_path: str) -> list[Any]:
    """Run the screen's events inside the current event; return what must still chain.

    Identity and the screen's data then reach the page in one delta: one server round of
    state lock, delta and emit, and one React render fewer before the first data shows
    (bench/frontend.py). A handler that takes arguments, is not a coroutine, or fails
    here is returned to chain as a normal event, so Reflex runs and reports it as before.
    """
    rest: list[Any] = []
    for handler in screen_events(page_path):
        fn = getattr(handler, "fn", None)
        owner = getattr(handler, "state", None)
        background = getattr(fn, BACKGROUND_TASK_MARKER, False)
        if owner is None or background or not inspect.iscoroutinefunction(fn):
            rest.append(handler)
            continue
        substate = await state.get_state(owner)
        try:
            chained = await fn(substate)
        except Exception:
            logger.exception("%s failed inside the load; chained instead", handler.fn.__qualname__)
            rest.append(handler)
            continue
        if chained is not None:
            rest.extend(chained if isinstance(chained, list) else [chained])
    return rest


async def recall_screen(user_id: int) -> str | None:
    try:
        screen = await asyncio.to_thread(get_store().get, user_id, SCREEN_KEY)
    except BackendError:
        return None  # the store is down: start on the screen that was opened
    return screen if screen in SCREENS else None


async def remember_screen(user_id: int, path: str) -> None:
    if path not in SCREENS:
        return
    with contextlib.suppress(BackendError):  # the store is down: nothing to remember
        await asyncio.to_thread(get_store().put, user_id, SCREEN_KEY, path)
