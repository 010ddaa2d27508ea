"""A screen's load events run inside the identity event, or chain when they cannot."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from state import navigation


@dataclass
class Substate:
    calls: list[str] = field(default_factory=list)


@dataclass
class Handler:
    """What fill_screen reads of a Reflex EventHandler."""

    fn: Any
    state: type | None = Substate
    is_background: bool = False


class Root:
    def __init__(self) -> None:
        self.substate = Substate()

    async def get_state(self, cls: type) -> Substate:
        assert cls is Substate
        return self.substate


def fill(monkeypatch: pytest.MonkeyPatch, handlers: list[Any]) -> tuple[list[Any], Substate]:
    monkeypatch.setattr(navigation, "SCREEN_EVENTS", {"/index": handlers})
    root = Root()
    # A thread of its own: in a whole run, Playwright's sync API keeps an event loop
    # running on the main thread, where asyncio.run refuses to start another.
    with ThreadPoolExecutor(max_workers=1) as pool:
        rest = pool.submit(asyncio.run, navigation.fill_screen(root, "/index")).result()
    return rest, root.substate


def test_a_coroutine_handler_runs_inline_and_what_it_returns_chains(monkeypatch) -> None:
    async def load(self: Substate) -> tuple[str, str]:
        self.calls.append("load")
        return ("next", "and next")

    rest, substate = fill(monkeypatch, [Handler(load)])
    assert substate.calls == ["load"]
    assert rest == ["next", "and next"]


def test_from_the_first_handler_that_cannot_run_inline_all_chain_in_order(monkeypatch) -> None:
    async def first(self: Substate) -> None:
        self.calls.append("first")

    async def streaming(self: Substate):  # yields deltas: must run as its own event
        self.calls.append("streaming")
        yield

    async def background(self: Substate) -> None:
        self.calls.append("background")

    async def needs_an_argument(self: Substate, item: str) -> None:
        self.calls.append(item)

    for odd in (Handler(streaming), Handler(background, is_background=True)):
        last = Handler(first)
        rest, substate = fill(monkeypatch, [Handler(first), odd, last])
        assert substate.calls == ["first"]
        assert rest == [odd, last]  # `last` could run inline but must not overtake `odd`
    spec = Handler(needs_an_argument)
    assert fill(monkeypatch, [spec, "an event spec"])[0] == [spec, "an event spec"]


def test_a_handler_that_fails_inline_is_chained_to_run_as_a_normal_event(monkeypatch) -> None:
    async def broken(self: Substate) -> None:
        self.calls.append("broken")
        raise RuntimeError("boom")

    async def after(self: Substate) -> None:
        self.calls.append("after")

    failing = Handler(broken)
    rest, substate = fill(monkeypatch, [failing, Handler(after)])
    assert substate.calls == ["broken", "after"]  # one failure does not stop the screen
    assert rest == [failing]


def test_every_screen_of_the_app_loads_inline() -> None:
    """On the real handlers: a Reflex upgrade that renamed what runs_inline reads would
    quietly send every screen back to a round trip of its own."""
    from app.pages import PAGES

    handlers = [h for page in PAGES for h in page.screen_events()]
    assert handlers
    assert [h.fn.__qualname__ for h in handlers if not navigation.runs_inline(h)] == []
