"""Live data: another member's transfer reaches my open screen without a reload."""

from __future__ import annotations

import uuid

import pytest

from app.domain.db import Database
from app.domain.users import find_by_username
from tests.e2e.screen import send_points, shown_balance, wait_for_balance, wait_for_newest_note

pytestmark = pytest.mark.e2e


def test_transfer_appears_live_in_the_other_members_feed_and_balance(app_server, browser) -> None:
    db = Database(app_server.database_url)
    alice, bob = find_by_username(db, "alice"), find_by_username(db, "bob")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(app_server.launch_url("bob"))
    page.locator("#member-name").wait_for(timeout=15_000)
    page.goto(app_server.url + "/feed")
    page.locator("#feed-list .feed-row").first.wait_for(timeout=15_000)
    page.wait_for_timeout(2500)  # let the screen's live ticker take its first look
    start_balance = shown_balance(page)

    note = f"live {uuid.uuid4().hex[:6]}"
    sender = {"id": alice.id, "first_name": "Alice", "username": "alice"}
    send_points(app_server, sender, "bob", 3, note)

    # No reload: the new row arrives on top and the balance follows.
    first = page.locator("#feed-list .feed-row").first
    page.wait_for_function(
        f"document.querySelector('#feed-list .feed-row .feed-detail')?.innerText === {note!r}",
        timeout=10_000,
    )
    assert "Alice Martin" in first.locator(".feed-title").inner_text()
    page.wait_for_function(
        "parseInt(document.querySelector('#member-balance').innerText.replace(/\\s/g, ''))"
        f" === {start_balance + 3}",
        timeout=10_000,
    )
    assert find_by_username(db, "bob").balance == bob.balance + 3 == start_balance + 3
    context.close()


def test_send_form_in_one_client_updates_the_other_members_screen(telegram, member) -> None:
    """Two members, two Telegram clients: alice sends with the MainButton, bob watches."""
    bob = telegram(member("bob"), platform="ios")
    bob.open("/feed", wait_for="#feed-list .feed-row")
    bob.wait_for_sent("live_state.tick")  # the live ticker's first look
    start = shown_balance(bob.page)

    alice = telegram(member("alice"), platform="android")
    alice.open("/profile/send")
    note = f"from the form {uuid.uuid4().hex[:6]}"
    alice.page.locator("#send-to").fill("@bob")
    alice.page.locator("#send-amount").fill("4")
    alice.page.locator("#send-note").fill(note)
    alice.press_main_button()
    alice.page.locator("#notice").wait_for()

    wait_for_newest_note(bob, note)
    wait_for_balance(bob, start + 4)
