"""Who the app serves: the dev launch signs as Telegram would; nothing else gets in."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.domain import ledger
from app.domain.db import Database
from app.domain.users import find_by_username
from miniapp_testing.telegram import launch_hash, sign_init_data

pytestmark = pytest.mark.e2e
SESSION_STATE = "reflex___state____state.state___session____session_state"


def _open_as(page, app_server, user: str) -> None:
    page.goto(app_server.launch_url(user))
    page.locator("#member-name").wait_for(timeout=15_000)


def test_dev_launch_opens_the_app_as_the_named_member(app_server, phone_page) -> None:
    bob = find_by_username(Database(app_server.database_url), "bob")
    assert bob is not None
    _open_as(phone_page, app_server, "bob")
    assert phone_page.locator("#member-name").inner_text() == bob.name == "Bob Kowalski"
    shown = phone_page.locator("#member-balance").inner_text().replace("\u202f", "")
    assert int(shown) == bob.balance
    # Telegram's own script parsed the launch parameters from the URL hash.
    assert phone_page.evaluate("window.Telegram.WebApp.initDataUnsafe.user.username") == "bob"
    assert phone_page.evaluate("window.Telegram.WebApp.platform") == "tdesktop"


def test_dev_launch_redirect_carries_signed_launch_parameters(app_server) -> None:
    response = httpx.get(app_server.launch_url("carol"), follow_redirects=False, timeout=5)
    assert response.status_code == 307
    fragment = parse_qs(urlsplit(response.headers["location"]).fragment)
    assert fragment["tgWebAppVersion"] == ["8.0"]
    assert json.loads(fragment["tgWebAppThemeParams"][0])["bg_color"] == "#ffffff"
    init_data = parse_qs(fragment["tgWebAppData"][0])
    assert json.loads(init_data["user"][0])["username"] == "carol"
    assert len(init_data["hash"][0]) == 64


def test_tampered_launch_shows_the_rejection_screen(app_server, phone_page) -> None:
    response = httpx.get(app_server.launch_url("bob"), follow_redirects=False, timeout=5)
    tampered = response.headers["location"].replace("Bob", "Rob")
    assert tampered != response.headers["location"]
    phone_page.goto(app_server.url + tampered)
    reason = phone_page.locator("#gate-reason")
    reason.wait_for(timeout=15_000)
    assert "wrong signature" in reason.inner_text()
    assert phone_page.locator("#member-name").count() == 0
    assert phone_page.locator(".feed-row").count() == 0


def test_launch_signed_with_another_bot_is_rejected(app_server, phone_page) -> None:
    forged = sign_init_data({"id": 1000001, "first_name": "Alice"}, "1:not-this-bots-token")
    phone_page.goto(f"{app_server.url}/#{launch_hash(forged)}")
    phone_page.locator("#gate-reason").wait_for(timeout=15_000)
    assert phone_page.locator("#gate").get_attribute("data-status") == "rejected"


def test_outside_telegram_says_to_open_it_from_telegram(app_server, phone_page) -> None:
    phone_page.goto(app_server.url + "/")
    gate = phone_page.locator("#gate")
    gate.wait_for(timeout=15_000)
    assert gate.get_attribute("data-status") == "outside"
    assert "Open this app from Telegram" in gate.inner_text()
    assert phone_page.locator("#dev-launch").get_attribute("href") == "/dev/launch?user=alice"


CRAFT_HOOK = """
window.__crafted = [];
window.__reflex_otel = {
  onEventSend: (event) => {
    const next = window.__crafted.shift();
    if (next) { event.name = next.name; event.payload = next.payload; }
  },
};
"""


def test_crafted_events_claiming_another_member_change_nothing(app_server, phone_page) -> None:
    """A hostile client rewrites its outgoing events to act as alice; alice is untouched."""
    db = Database(app_server.database_url)
    alice = find_by_username(db, "alice")
    assert alice is not None
    books_before = ledger.books(db)
    phone_page.add_init_script(CRAFT_HOOK)
    _open_as(phone_page, app_server, "bob")
    phone_page.goto(app_server.url + "/feed")
    phone_page.locator("#feed-more").wait_for(timeout=15_000)

    def send_crafted(name: str, payload: dict[str, object]) -> None:
        # Queued and clicked in one step inside the page: the forged bind below drops the
        # session, and a pushed feed update may re-render the button, so an element handle
        # held across a round trip (Playwright's click) can be detached under it.
        phone_page.evaluate(
            """([name, payload]) => {
                window.__crafted.push({name, payload});
                document.querySelector('#feed-more').click();
            }""",
            [name, payload],
        )
        phone_page.wait_for_function("window.__crafted.length === 0")

    # No setter exists for the backend-only user id, nor for shown fields.
    send_crafted(f"{SESSION_STATE}.set__user_id", {"value": alice.id})
    send_crafted(f"{SESSION_STATE}.set_name", {"value": alice.name})
    # Extra arguments a handler does not take.
    send_crafted(
        "reflex___state____state.state___feed____feed_state.load_more", {"user_id": alice.id}
    )
    # A real event after them: the server handles a tab's events in order, so once this
    # one's rows arrive, the crafted ones were handled (and changed nothing).
    rows = phone_page.locator("#feed-list .feed-row")
    before = rows.count()
    phone_page.locator("#feed-more").click()
    phone_page.wait_for_function(
        f"document.querySelectorAll('#feed-list .feed-row').length > {before}", timeout=10_000
    )
    assert phone_page.locator("#member-name").inner_text() == "Bob Kowalski"
    # initData naming alice but not signed by this bot: the session is dropped, not switched.
    forged = sign_init_data({"id": alice.id, "first_name": "Alice"}, "1:wrong-token")
    send_crafted(f"{SESSION_STATE}.bind", {"init_data": forged})
    phone_page.locator("#gate-reason").wait_for(timeout=10_000)
    assert phone_page.locator("#member-name").count() == 0

    after = find_by_username(db, "alice")
    assert after == alice
    assert ledger.books(db) == books_before
    health = httpx.get(f"{app_server.url}/health", timeout=5)
    assert health.status_code == 200


def test_a_member_is_served_no_longer_than_their_launch_is_valid(app_server, phone_page) -> None:
    """A tab bound shortly before its initData expires cannot act after it: the claim books
    nothing and the page asks to reopen the app from Telegram."""
    db = Database(app_server.database_url)
    max_age = 24 * 3600  # INIT_DATA_MAX_AGE_S of the app under test (the default)
    valid_for = 15  # enough for the page to open and bind on a busy machine
    auth_date = int(time.time()) - max_age + valid_for
    user = {"id": 7_200_000_001, "first_name": "Late"}
    init_data = sign_init_data(user, app_server.bot_token, auth_date=auth_date)
    phone_page.goto(f"{app_server.url}/#{launch_hash(init_data)}")
    phone_page.locator("#claim").wait_for(timeout=15_000)
    books_before = ledger.books(db)
    while time.time() < auth_date + max_age + 1:  # until the launch has expired
        time.sleep(0.2)
    phone_page.locator("#claim").click()
    reason = phone_page.locator("#gate-reason")
    reason.wait_for(timeout=10_000)
    assert "expired" in reason.inner_text()
    assert phone_page.locator("#gate").get_attribute("data-status") == "rejected"
    assert ledger.books(db) == books_before, "the expired tab booked its claim"
