"""A screen's load events run inside the identity event, or chain when they cannot."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from reflex.event import BACKGROUND_TASK_MARKER

from state import navigation


@dataclass
class Substate:
    calls: list[str] = field(default_factory=list)


@dataclass
class Handler:
    """What fill_screen reads of a Reflex EventHandler: the function and its state class."""

    fn: Any
    state: type | None = Substate


class Root:
    def __init__(self) -> None:
        self.substate = Substate()

    async def get_state(self, cls: type) -> Substate:
        assert cls is Substate
        return self.substate


def fill(monkeypatch: pytest.MonkeyPatch, handlers: list[Any]) -> tuple[list[Any], Substate]:
    monkeypatch.setattr(navigation, "SCREEN_EVENTS", {"/index": handlers})
    root = Root()
    return asyncio.run(navigation.fill_screen(root, "/index")), root.substate


def test_a_coroutine_handler_runs_inline_and_what_it_returns_chains(monkeypatch) -> None:
    async def load(self: Substate) -> str:
        self.calls.append("load")
        return "next event"

    rest, substate = fill(monkeypatch, [Handler(load)])
    assert substate.calls == ["load"]
    assert rest == ["next event"]


def test_generators_background_tasks_and_plain_events_chain_unrun(monkeypatch) -> None:
    async def streaming(self: Substate):  # yields deltas: must run as its own event
        self.calls.append("streaming")
        yield

    async def background(self: Substate) -> None:
        self.calls.append("background")

    setattr(background, BACKGROUND_TASK_MARKER, True)
    handlers = [Handler(streaming), Handler(background), "an event spec"]
    rest, substate = fill(monkeypatch, handlers)
    assert substate.calls == []
    assert rest == handlers


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
