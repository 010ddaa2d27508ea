"""At most N sockets per address and worker (state/connections.py), on a stand-in for
Reflex's event namespace."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest
from socketio.exceptions import ConnectionRefusedError as Refused

from state import connections


class Namespace:
    def __init__(self) -> None:
        self.connected: list[str] = []
        self.fail_next = False

    def _build_static_router_data(self, sid: str, environ: dict[str, Any]) -> dict[str, str]:
        return {"ip": environ["REMOTE_ADDR"]}

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the hydrate failed")
        self.connected.append(sid)

    def on_disconnect(self, sid: str) -> None:
        self.connected.remove(sid)


def _run(coro: Any) -> Any:
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_an_address_past_its_bound_is_refused_until_one_closes() -> None:
    namespace = Namespace()
    bound = connections.install(SimpleNamespace(event_namespace=namespace), 2)
    assert bound is not None
    here, there = {"REMOTE_ADDR": "10.0.0.1"}, {"REMOTE_ADDR": "10.0.0.2"}
    _run(namespace.on_connect("a", here))
    _run(namespace.on_connect("b", here))
    with pytest.raises(Refused):
        _run(namespace.on_connect("c", here))
    _run(namespace.on_connect("d", there))  # another address has its own
    namespace.on_disconnect("a")
    _run(namespace.on_connect("c", here))
    assert sorted(namespace.connected) == ["b", "c", "d"]
    assert bound.open == {"10.0.0.1": 2, "10.0.0.2": 1}


def test_a_connect_that_fails_gives_its_place_back() -> None:
    namespace = Namespace()
    bound = connections.install(SimpleNamespace(event_namespace=namespace), 1)
    assert bound is not None
    namespace.fail_next = True
    with pytest.raises(RuntimeError):
        _run(namespace.on_connect("a", {"REMOTE_ADDR": "10.0.0.1"}))
    _run(namespace.on_connect("b", {"REMOTE_ADDR": "10.0.0.1"}))
    assert namespace.connected == ["b"]


def test_zero_means_no_bound() -> None:
    assert connections.install(SimpleNamespace(event_namespace=Namespace()), 0) is None
