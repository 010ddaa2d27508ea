"""What the Telegram bridge's handlers keep from arguments a hostile client may send."""

from __future__ import annotations

import math

import pytest

from state import navigation
from state.lifecycle import _insets, _pixels
from state.services import text_arg


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (24, 24),
        (24.6, 24),
        (-5, 0),
        (10**12, 10_000),
        (math.nan, 0),
        (math.inf, 0),
        (True, 0),
        ("24", 0),
        (None, 0),
        ([24], 0),
    ],
)
def test_pixels_are_bounded_integers(value: object, expected: int) -> None:
    assert _pixels(value) == expected


def test_insets_keep_only_the_four_sides() -> None:
    raw = {"top": 10, "bottom": "x", "left": -3, "evil": 99, "right": math.nan}
    assert _insets(raw) == {"top": 10, "bottom": 0, "left": 0, "right": 0}
    assert _insets("not a dict") == {"top": 0, "bottom": 0, "left": 0, "right": 0}
    assert _insets(None) == {"top": 0, "bottom": 0, "left": 0, "right": 0}


def test_text_arguments_are_text_and_bounded() -> None:
    assert text_arg("8.0", 8) == "8.0"
    assert text_arg("x" * 10_000, 32) == "x" * 32
    assert text_arg(123, 32) == ""
    assert text_arg({"a": 1}, 32) == ""


def test_every_tab_gets_its_own_action_keys() -> None:
    from state.market import MarketState
    from state.profile import SendState

    for state, name in ((MarketState, "buy_key"), (SendState, "send_key")):
        field = state.get_fields()[name]
        keys = {field.default_factory() for _ in range(3)}  # what each new tab starts with
        assert len(keys) == 3, name


def test_screen_events_are_found_by_reflex_route_names(monkeypatch) -> None:
    monkeypatch.setattr(navigation, "SCREEN_EVENTS", {})
    monkeypatch.setattr(navigation, "SCREENS", {"/"})
    navigation.register_screen("/", ["home"])
    navigation.register_screen("/market/[item_id]", ["item"])
    assert navigation.screen_events("/index") == ["home"]
    assert navigation.screen_events("/market/[item_id]") == ["item"]
    assert navigation.screen_events("/nowhere") == []
    assert {"/"} == navigation.SCREENS  # a route with parameters is no place to return to
