"""Resume: minimized, restored, the backend killed, the network gone, a press while down.

Each test drives the official telegram-web-app.js inside the kit's emulated client and
checks what the member sees, plus what the app asked of its server meanwhile.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text

from app.domain.db import Database
from app.domain.market import list_items
from app.domain.transfers import transfer
from app.domain.users import find_by_username, get_profile
from tests.support.screen import (
    assert_no_error_on_screen,
    send_points,
    shown_balance,
    wait_for_balance,
    wait_for_newest_note,
)

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("version", "how"),
    [("8.0", "activated/deactivated"), ("7.0", "visibilitychange fallback")],
)
def test_minimized_app_goes_quiet_and_catches_up_on_restore(
    telegram, member, miniapp, version: str, how: str
) -> None:
    tg = telegram(member("bob"), platform="android", version=version)
    tg.open("/feed", wait_for="#feed-list .feed-row")
    start = shown_balance(tg.page)

    tg.minimize()
    tg.page.locator(".screen[data-active='false']").wait_for()  # the server heard it
    note = f"while minimized {uuid.uuid4().hex[:6]}"
    send_points(miniapp, member("alice"), "bob", 3, note)
    # That nothing reaches the page meanwhile is test_live's
    # test_minimized_member_receives_nothing_until_restored.

    tg.restore()
    wait_for_newest_note(tg, note)
    wait_for_balance(tg, start + 3)
    tg.page.locator(".screen[data-active='true']").wait_for()
    assert_no_error_on_screen(tg.page)


def test_backend_killed_while_minimized_resumes_same_member_screen_and_inputs(
    telegram, member, miniapp
) -> None:
    dave = member("dave")
    tg = telegram(dave, platform="ios")
    tg.open("/profile/send")
    tg.page.locator("#send-to").fill("@erin")
    tg.page.locator("#send-amount").fill("5")
    # The page keeps the draft in the tab's sessionStorage (components/form_draft.py).
    tg.wait_until("() => sessionStorage.getItem('draft:send:send-amount') === '5'")
    tg.minimize()

    with miniapp.down():
        # Meanwhile a transfer to dave lands (straight in the database: the server is down).
        db = Database(miniapp.database_url)
        alice = find_by_username(db, "alice")
        transfer(db, alice.id, "@dave", 4, "while the server was down", uuid.uuid4().hex)
        fresh_balance = find_by_username(db, "dave").balance

    tg.restore()
    wait_for_balance(tg, fresh_balance)
    full_name = f"{dave['first_name']} {dave['last_name']}"
    assert tg.page.locator("#member-name").inner_text() == full_name
    assert tg.page.url.split("#")[0].rstrip("/").endswith("/profile/send")
    assert tg.page.locator("#send-to").input_value() == "@erin"
    assert tg.page.locator("#send-amount").input_value() == "5"
    assert_no_error_on_screen(tg.page)


def test_offline_while_minimized_recovers_when_back_online(telegram, member, miniapp) -> None:
    tg = telegram(member("erin"), platform="android")
    tg.open("/feed", wait_for="#feed-list .feed-row")
    start = shown_balance(tg.page)
    tg.minimize()
    since = tg.now_ms()
    tg.go_offline()
    note = f"while offline {uuid.uuid4().hex[:6]}"
    send_points(miniapp, member("alice"), "erin", 2, note)
    tg.page.wait_for_timeout(3000)
    tg.go_online()
    tg.restore()
    wait_for_newest_note(tg, note)
    wait_for_balance(tg, start + 2)
    assert_no_error_on_screen(tg.page)
    # The socket really was cut, and it came back.
    history = tg.socket_history(since)
    assert any(not e["connected"] for e in history), history
    assert history[-1]["connected"], history


def _purchases(database_url: str, user_id: int, item_id: int) -> int:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        count = conn.execute(
            text("SELECT count(*) FROM purchases WHERE user_id = :u AND item_id = :i"),
            {"u": user_id, "i": item_id},
        ).scalar_one()
    engine.dispose()
    return int(count)


def test_buy_pressed_while_the_connection_is_down_is_charged_once(telegram, miniapp) -> None:
    db = Database(miniapp.database_url)
    # A new member (the welcome bonus is the whole balance) and the cheapest item in stock.
    newcomer = {"id": 8_000_000 + uuid.uuid4().int % 1_000_000, "first_name": "Ola"}
    item = min((i for i in list_items(db) if i.stock > 0), key=lambda i: i.price)
    tg = telegram(newcomer, platform="android")
    tg.open(f"/market/{item.id}")
    tg.wait_for_main_button(text="Buy", is_active=True)
    balance = get_profile(db, newcomer["id"]).balance
    assert item.price <= balance

    since = tg.now_ms()
    with miniapp.down():
        # The page has noticed that its socket is gone: presses now wait in Reflex's queue.
        tg.wait_until(
            "(t) => window.__tgHost.socket.some((e) => !e.connected && e.at >= t)", arg=since
        )
        tg.press_main_button()
        tg.press_main_button()  # no answer, so the member presses again

    tg.page.locator("#notice").wait_for(timeout=30_000)
    assert_no_error_on_screen(tg.page)
    assert _purchases(miniapp.database_url, newcomer["id"], item.id) == 1
    assert get_profile(db, newcomer["id"]).balance == balance - item.price


def test_connection_that_died_silently_while_minimized_is_replaced(
    telegram, member, miniapp
) -> None:
    """The phone slept and its connection went half-open: it looks connected, nothing
    gets through. The resume gets no answer while HTTP does, so the page starts over."""
    tg = telegram(member("carol"), platform="android")
    tg.open("/feed", wait_for="#feed-list .feed-row")
    start = shown_balance(tg.page)
    tg.minimize()
    tg.page.locator(".screen[data-active='false']").wait_for()
    tg.stall_connection()
    note = f"half-open {uuid.uuid4().hex[:6]}"
    send_points(miniapp, member("alice"), "carol", 2, note)
    tg.page.evaluate("window.__sameDocument = true")
    tg.restore()
    # The bridge waits one resume period, then one more with HTTP answering, then reloads.
    tg.page.wait_for_function(
        "(n) => document.querySelector('#feed-list .feed-row .feed-detail')?.innerText === n",
        arg=note,
        timeout=40_000,
    )
    wait_for_balance(tg, start + 2)
    assert tg.page.evaluate("window.__sameDocument") is None, "recovered without a reload?"
    assert tg.page.url.split("#")[0].rstrip("/").endswith("/feed")
    assert_no_error_on_screen(tg.page)
