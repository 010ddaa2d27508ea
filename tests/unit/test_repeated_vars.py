"""A navigation's update_vars_internal that repeats its socket's last one is dropped
(state/repeated_vars.py), on a stand-in for Reflex's event namespace."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest

from state import repeated_vars
from state.repeated_vars import UPDATE_VARS

FULL_NAME = f"reflex___state____state.{UPDATE_VARS}"
LAUNCH = "reflex___state____state.state___session____session_state.launch_rx_state_"


class Namespace:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.closed: list[str] = []

    async def on_event(self, sid: str, data: Any) -> None:
        self.events.append((sid, data))

    def on_disconnect(self, sid: str) -> None:
        self.closed.append(sid)


def _vars(launch: str = "query_id=1&hash=ab", to: str = "") -> dict[str, Any]:
    return {"name": FULL_NAME, "payload": {"vars": {LAUNCH: launch, "to": to}}}


def _run(coro: Any) -> Any:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture
def namespace() -> Namespace:
    ns = Namespace()
    assert repeated_vars.install(SimpleNamespace(event_namespace=ns)) is not None
    return ns


def test_a_repeat_on_the_same_socket_is_dropped(namespace: Namespace) -> None:
    _run(namespace.on_event("a", _vars()))
    _run(namespace.on_event("a", _vars()))
    assert len(namespace.events) == 1
    assert namespace.repeated_vars.dropped == 1  # type: ignore[attr-defined]


def test_a_changed_value_is_always_applied(namespace: Namespace) -> None:
    _run(namespace.on_event("a", _vars(to="")))
    _run(namespace.on_event("a", _vars(to="@bob")))
    _run(namespace.on_event("a", _vars(to="")))  # back again: differs from the last one
    assert [data["payload"]["vars"]["to"] for _, data in namespace.events] == ["", "@bob", ""]


def test_each_socket_has_its_own_memory(namespace: Namespace) -> None:
    _run(namespace.on_event("a", _vars()))
    _run(namespace.on_event("b", _vars()))
    assert [sid for sid, _ in namespace.events] == ["a", "b"]


def test_a_reconnect_starts_afresh(namespace: Namespace) -> None:
    _run(namespace.on_event("a", _vars()))
    namespace.on_disconnect("a", "transport close")
    _run(namespace.on_event("a", _vars()))
    assert len(namespace.events) == 2
    assert namespace.closed == ["a"]


def test_an_old_memory_is_forgotten(namespace: Namespace, monkeypatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(repeated_vars.time, "monotonic", lambda: clock[0])
    _run(namespace.on_event("a", _vars()))
    clock[0] += repeated_vars.REMEMBER_S + 1
    _run(namespace.on_event("a", _vars()))
    assert len(namespace.events) == 2


@pytest.mark.parametrize(
    "data",
    [
        {"name": "reflex___state____state.state___feed____feed_state.more", "payload": {}},
        {"name": FULL_NAME, "payload": "not an object"},
        {"name": FULL_NAME, "payload": {"vars": {LAUNCH: {1, 2}}}},
        "a string frame",
    ],
)
def test_every_other_event_passes_through_each_time(namespace: Namespace, data: Any) -> None:
    _run(namespace.on_event("a", data))
    _run(namespace.on_event("a", data))
    assert len(namespace.events) == 2
