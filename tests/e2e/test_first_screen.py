"""The path database -> service -> state -> browser works, as `make run` serves it."""

from __future__ import annotations

import httpx
import pytest

from app.domain import feed
from app.domain.db import Database

pytestmark = pytest.mark.e2e


def test_health_reports_database_and_redis(app_server) -> None:
    body = httpx.get(f"{app_server.url}/health", timeout=5).json()
    assert body["status"] == "ok"
    assert body["database"] == {**body["database"], "ok": True, "backend": "sqlite"}
    assert body["redis"]["configured"] is False


def test_first_screen_shows_seeded_feed(app_server, phone_page) -> None:
    newest = feed.feed_page(Database(app_server.database_url), None, 20).items
    phone_page.goto(app_server.launch_url("alice"))
    phone_page.locator("#member-name").wait_for(timeout=15_000)
    phone_page.locator("#tab-feed").click()
    rows = phone_page.locator("#feed-list .feed-row")
    rows.first.wait_for(timeout=15_000)
    assert rows.count() == len(newest) == 20
    # Same order as the service returns: newest first.
    first_title = rows.nth(0).locator(".feed-title").inner_text()
    expected = newest[0].from_name or newest[0].to_name
    assert expected and expected in first_title


def test_load_more_button_appends_the_next_page(app_server, phone_page) -> None:
    """The button is the fallback of the infinite scroll (no IntersectionObserver here)."""
    phone_page.add_init_script("delete window.IntersectionObserver")
    phone_page.goto(app_server.launch_url("alice"))
    phone_page.locator("#member-name").wait_for(timeout=15_000)
    phone_page.goto(app_server.url + "/feed")  # a reload keeps Telegram's launch data
    rows = phone_page.locator("#feed-list .feed-row")
    rows.first.wait_for(timeout=15_000)
    phone_page.locator("#feed-more").click()
    phone_page.wait_for_function("document.querySelectorAll('.feed-row').length >= 40")
    assert rows.count() == 40


def test_scrolling_to_the_end_loads_the_next_page(app_server, phone_page) -> None:
    phone_page.goto(app_server.launch_url("alice"))
    phone_page.locator("#member-name").wait_for(timeout=15_000)
    phone_page.goto(app_server.url + "/feed")
    rows = phone_page.locator("#feed-list .feed-row")
    rows.first.wait_for(timeout=15_000)
    assert rows.count() == 20  # one page: the end of the list is out of sight
    phone_page.mouse.wheel(0, 4000)
    phone_page.wait_for_function("document.querySelectorAll('.feed-row').length >= 40")
    # One scroll, one page: the sentinel, now below the new rows, must not ask again by
    # itself (scroll anchoring once made each page pull in the next one).
    phone_page.wait_for_timeout(1000)
    assert rows.count() == 40
    phone_page.mouse.wheel(0, 4000)
    phone_page.wait_for_function("document.querySelectorAll('.feed-row').length >= 60")
    ids = phone_page.eval_on_selector_all(
        "#feed-list .feed-row", "rows => rows.map(r => r.dataset.id)"
    )
    assert len(ids) == len(set(ids)), "a row is shown twice"


def test_no_horizontal_scroll_at_320px(app_server, browser) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(app_server.launch_url("alice"))
    page.locator(".feed-row").first.wait_for(timeout=15_000)
    overflows = {}
    for route, ready in (
        ("/", "#claim"),
        ("/feed", "#feed-list"),
        ("/market", "#items"),
        ("/leaderboard", "#leaders"),
        ("/profile", "#history"),
    ):
        page.goto(app_server.url + route)
        page.locator(ready).wait_for(timeout=15_000)
        overflows[route] = page.evaluate("document.documentElement.scrollWidth - innerWidth")
    context.close()
    assert all(overflow <= 0 for overflow in overflows.values()), overflows
