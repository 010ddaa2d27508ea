"""What a browser may write into its tab's state by itself (state/client_vars.py): the
client-storage vars are held to their fields' limits before Reflex applies them."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

from reflex.app import EventNamespace
from reflex.event import Event
from reflex_base import constants

from app.app import app
from state.client_vars import (
    FIELD_MARKER,
    HEADER_LIMITS,
    LIMITS,
    BoundedClientVars,
    bounded,
    install_header_bound,
)
from state.lifecycle import LifecycleState
from state.session import SessionState

LAUNCH = f"{SessionState.get_full_name()}.launch{FIELD_MARKER}"
SHOWN = f"{LifecycleState.get_full_name()}.shown{FIELD_MARKER}"


def test_values_within_their_field_are_kept() -> None:
    values: dict[str, Any] = {LAUNCH: "a" * 8192, SHOWN: "1"}
    bounded(values)
    assert values == {LAUNCH: "a" * 8192, SHOWN: "1"}


def test_values_past_their_field_or_not_text_become_empty() -> None:
    values: dict[str, Any] = {LAUNCH: "a" * 950_000, SHOWN: {"nested": "x"}}
    bounded(values)
    assert values == {LAUNCH: "", SHOWN: ""}


def test_vars_that_are_not_ours_are_dropped() -> None:
    values: dict[str, Any] = {"no_such_state.x_rx_state_": "y", SHOWN: "ok"}
    bounded(values)
    assert values == {SHOWN: "ok"}


def test_every_client_storage_var_has_a_limit() -> None:
    """A new rx.SessionStorage/LocalStorage var needs its row in LIMITS, or it is dropped."""
    from reflex.state import State

    def client_vars(cls: type[State]) -> set[str]:
        own = {
            f"{cls.get_full_name()}.{name}"
            for name in cls.base_vars
            if cls._is_client_storage(name) and not name.startswith("_")
        }
        for sub in cls.get_substates():
            own |= client_vars(sub)
        return own

    assert client_vars(State) == set(LIMITS)


def test_the_app_bounds_the_hydrate_and_update_vars_first() -> None:
    middleware = app._middlewares[0]
    assert isinstance(middleware, BoundedClientVars)
    event = Event(
        name="reflex___state____state.update_vars_internal_state.update_vars_internal",
        payload={"vars": {SHOWN: "z" * 5000}},
    )
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, middleware.preprocess(app, None, event)).result()  # type: ignore[arg-type]
    assert event.payload == {"vars": {SHOWN: ""}}


class _Namespace:
    # Reflex's own builder: the bound wraps what Reflex really puts in router_data.
    _build_static_router_data = EventNamespace._build_static_router_data


def test_only_a_few_upgrade_headers_reach_the_tab_state_each_cut_short() -> None:
    namespace = _Namespace()
    install_header_bound(SimpleNamespace(event_namespace=namespace))  # type: ignore[arg-type]
    scope = {
        "client": ("10.0.0.7", 50000),
        "headers": [
            (b"host", b"app.example"),
            (b"user-agent", b"Mozilla/5.0 " + b"x" * 5000),
            (b"cookie", b"session=" + b"c" * 300_000),
            (b"x-made-up", b"m" * 300_000),
        ],
    }
    data = namespace._build_static_router_data("sid", {"asgi.scope": scope})
    headers = data[constants.RouteVar.HEADERS]
    assert headers == {
        "host": "app.example",
        "user-agent": ("Mozilla/5.0 " + "x" * 5000)[: HEADER_LIMITS["user-agent"]],
        "asgi-scope-client": "10.0.0.7",
    }
    assert data[constants.RouteVar.CLIENT_IP] == "10.0.0.7"
