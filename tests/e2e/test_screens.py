"""The screens' writes in a phone-sized browser: claim, buy, send, and their errors."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from app.domain.db import Database
from app.domain.leaderboard import by_balance
from app.domain.market import get_item
from app.domain.users import find_by_username, get_profile
from app.domain.welcome import WELCOME_BONUS
from tests.support.screen import shown_balance

pytestmark = pytest.mark.e2e


def _open(page, app_server, user: str, route: str, ready: str) -> None:
    page.goto(app_server.launch_url(user))
    page.locator("#member-name").wait_for(timeout=15_000)
    if route != "/":
        page.goto(app_server.url + route)
    page.locator(ready).wait_for(timeout=15_000)


def test_claim_the_daily_reward_once(app_server, phone_page) -> None:
    db = Database(app_server.database_url)
    _open(phone_page, app_server, "erin", "/", "#claim")
    before = find_by_username(db, "erin").balance
    phone_page.locator("#claim").click()
    phone_page.locator("#notice").wait_for(timeout=10_000)
    assert find_by_username(db, "erin").balance == before + 50
    assert shown_balance(phone_page) == before + 50
    assert phone_page.locator("#claim").is_disabled()
    # A reload still knows it was claimed today.
    phone_page.reload()
    phone_page.locator("#claim").wait_for(timeout=15_000)
    phone_page.wait_for_function("document.querySelector('#claim').disabled === true")


def test_buy_changes_stock_and_balance_on_screen(app_server, phone_page) -> None:
    db = Database(app_server.database_url)
    item = get_item(db, 1)
    _open(phone_page, app_server, "alice", f"/market/{item.id}", "#buy")
    before = find_by_username(db, "alice").balance
    phone_page.locator("#buy").click()
    phone_page.locator("#notice").wait_for(timeout=10_000)
    assert get_item(db, item.id).stock == item.stock - 1
    assert find_by_username(db, "alice").balance == before - item.price
    assert shown_balance(phone_page) == before - item.price
    assert phone_page.locator("#item-stock").inner_text() == f"{item.stock - 1} in stock"


def test_sold_out_item_cannot_be_bought(app_server, phone_page) -> None:
    _open(phone_page, app_server, "alice", "/market/12", "#buy")  # the plushie: stock 0
    assert phone_page.locator("#buy").inner_text() == "Sold out"
    assert phone_page.locator("#buy").is_disabled()


def test_send_points_to_a_member(app_server, phone_page) -> None:
    db = Database(app_server.database_url)
    # Seeded balances depend on the hour the demo data was written (where day boundaries
    # fall decides which rewards were claimed), so a given member may have none left: the
    # richest member sends.
    rich = next(e for e in by_balance(db, limit=5).entries if e.username not in (None, "dave"))
    sender, recipient = find_by_username(db, rich.username), find_by_username(db, "dave")
    _open(phone_page, app_server, rich.username, "/profile/send", "#send")
    phone_page.locator("#send-to").fill("@dave")
    phone_page.locator("#send-amount").fill("7")
    phone_page.locator("#send-note").fill("for the e2e test")
    phone_page.locator("#send").click()
    phone_page.locator("#notice").wait_for(timeout=10_000)
    assert "Sent 7 points to Dave Okafor" in phone_page.locator("#notice").inner_text()
    assert find_by_username(db, rich.username).balance == sender.balance - 7
    assert find_by_username(db, "dave").balance == recipient.balance + 7
    assert shown_balance(phone_page) == sender.balance - 7
    # The draft is cleared, on screen and in the tab's storage: a reload does not bring it back.
    expect(phone_page.locator("#send-amount")).to_have_value("")
    phone_page.wait_for_function("() => sessionStorage.getItem('draft:send:send-note') === null")


@pytest.mark.parametrize(
    ("to", "amount", "message"),
    [
        ("@dave", "-5", "Amount must be a positive number of points."),
        ("@dave", "abc", "Amount must be a whole number."),
        ("@nobody_here", "5", "No member with the username @nobody_here."),
        ("@bob", "5", "You cannot send points to yourself."),
        ("@dave", "999999", "Not enough points"),
    ],
)
def test_send_errors_are_shown_and_charge_nothing(
    app_server, phone_page, to: str, amount: str, message: str
) -> None:
    db = Database(app_server.database_url)
    before = find_by_username(db, "bob").balance
    _open(phone_page, app_server, "bob", "/profile/send", "#send")
    phone_page.locator("#send-to").fill(to)
    phone_page.locator("#send-amount").fill(amount)
    phone_page.locator("#send").click()
    error = phone_page.locator("#error")
    error.wait_for(timeout=10_000)
    assert message in error.inner_text()
    assert find_by_username(db, "bob").balance == before


def test_a_newcomer_sees_why_the_welcome_points_cannot_be_sent(telegram, miniapp) -> None:
    db = Database(miniapp.database_url)
    newcomer = {"id": 7_100_000_000 + uuid.uuid4().int % 10**8, "first_name": "New"}
    tg = telegram(newcomer)
    tg.open("/profile/send", wait_for="#send-to")
    tg.page.locator("#send-to").fill("@dave")
    tg.page.locator("#send-amount").fill("5")
    tg.press_main_button()
    error = tg.page.locator("#error")
    error.wait_for(timeout=10_000)
    assert "Welcome points can be spent in the market" in error.inner_text()
    assert "You can send up to 0 now." in error.inner_text()
    assert get_profile(db, newcomer["id"]).balance == WELCOME_BONUS
