"""Live data, pushed: another member's write reaches my open screens with nothing asked."""

from __future__ import annotations

import uuid

import pytest

from tests.support.screen import (
    send_points,
    shown_balance,
    wait_for_balance,
    wait_for_newest_note,
)

pytestmark = pytest.mark.e2e


def _asked(tg, since: float) -> list[str]:
    # The slow safety net (SessionState.keep_live, every 2 minutes) may fire in any test;
    # anything else the page sends would be it asking for the change.
    return [name for name in tg.sent_events(since) if "keep_live" not in name]


def _pushed_note(tg, since: float, note: str) -> bool:
    return any(
        row.get("detail") == note
        for update in tg.received(since)
        for fields in update.values()
        for rows in (fields.get("rows"), fields.get("latest"))
        if isinstance(rows, list)
        for row in rows
        if isinstance(row, dict)
    )


def test_transfer_is_pushed_to_the_other_members_feed_home_and_balance(
    telegram, member, miniapp
) -> None:
    on_feed = telegram(member("bob"), platform="ios")
    on_feed.open("/feed", wait_for="#feed-list .feed-row")
    on_home = telegram(member("bob"), platform="android")
    on_home.open("/", wait_for="#latest .feed-row")
    start = shown_balance(on_home.page)
    since = max(on_feed.now_ms(), on_home.now_ms())

    note = f"pushed {uuid.uuid4().hex[:6]}"
    send_points(miniapp, member("alice"), "bob", 3, note)

    wait_for_newest_note(on_feed, note)
    on_home.wait_until(
        "(n) => document.querySelector('#latest .feed-row .feed-detail')?.innerText === n",
        arg=note,
        timeout_ms=15_000,
    )
    wait_for_balance(on_feed, start + 3)
    wait_for_balance(on_home, start + 3)
    assert "Alice" in on_feed.page.locator("#feed-list .feed-row .feed-title").first.inner_text()
    for tg in (on_feed, on_home):
        # Nothing was asked: no tick, no reload; the row came in a pushed update.
        assert _asked(tg, since) == []
        assert _pushed_note(tg, since, note)


def test_send_form_in_one_client_updates_the_other_members_screen(telegram, member) -> None:
    """Two members, two Telegram clients: alice sends with the MainButton, bob watches."""
    bob = telegram(member("bob"), platform="ios")
    bob.open("/feed", wait_for="#feed-list .feed-row")
    start = shown_balance(bob.page)
    since = bob.now_ms()

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
    assert _asked(bob, since) == []


@pytest.mark.parametrize(
    ("version", "how"),
    [("8.0", "activated/deactivated"), ("7.0", "visibilitychange fallback")],
)
def test_minimized_member_receives_nothing_until_restored(
    telegram, member, miniapp, version: str, how: str
) -> None:
    bob = telegram(member("bob"), platform="android", version=version)
    bob.open("/feed", wait_for="#feed-list .feed-row")
    start = shown_balance(bob.page)
    # Someone who keeps the Feed open: when the push has reached them, it has gone out to
    # everyone it was going to reach.
    watcher = telegram(member("dave"), platform="ios")
    watcher.open("/feed", wait_for="#feed-list .feed-row")

    bob.minimize()
    bob.page.locator(".screen[data-active='false']").wait_for()  # the server heard it
    since = bob.now_ms()
    note = f"while away {uuid.uuid4().hex[:6]}"
    send_points(miniapp, member("alice"), "bob", 2, note)
    wait_for_newest_note(watcher, note)
    # And a second write after it, so the member push of the first has had its turn too.
    later = f"after that {uuid.uuid4().hex[:6]}"
    send_points(miniapp, member("alice"), "dave", 1, later)
    wait_for_newest_note(watcher, later)

    assert bob.received(since) == [], how
    assert bob.sent_events(since) == [], how
    assert shown_balance(bob.page) == start

    bob.restore()
    bob.page.locator(".screen[data-active='true']").wait_for()
    wait_for_balance(bob, start + 2)
    bob.wait_until(
        "(n) => [...document.querySelectorAll('#feed-list .feed-row .feed-detail')]"
        ".some((e) => e.innerText === n)",
        arg=note,
        timeout_ms=15_000,
    )
