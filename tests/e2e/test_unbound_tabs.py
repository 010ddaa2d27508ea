"""A tab that binds no member is kept in Redis minutes, not hours (state/unbound_tabs.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from miniapp_testing.ci import missing
from miniapp_testing.server import AppDidNotStart, AppServer
from state.unbound_tabs import UNBOUND_TTL_S
from tests.support.waiting import until

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
REDIS_URL = "redis://127.0.0.1:6379/13"
SIX_HOURS = 6 * 3600


@pytest.fixture(scope="module")
def on_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
    except redis.RedisError as exc:
        missing(f"Redis is not reachable at {REDIS_URL}: {exc}")
    server = AppServer(
        Path(tmp_path_factory.mktemp("unbound")),
        redis_url=REDIS_URL,
        extra_env={"GRANIAN_WORKERS": "1"},
    )
    server.seed()
    try:
        server.start(timeout_s=300)
    except AppDidNotStart as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


def _ttls(page: Any) -> dict[str, int]:
    """The expiration left on each Redis key of the page's tab state."""
    token = page.evaluate("window.sessionStorage.getItem('token')")
    r = redis.Redis.from_url(REDIS_URL)
    keys = list(r.scan_iter(match=f"{token}_*")) if token else []
    return {key.decode().removeprefix(f"{token}_"): int(r.ttl(key)) for key in keys}


def _short(ttls: dict[str, int]) -> bool:
    return bool(ttls) and all(0 < ttl <= UNBOUND_TTL_S for ttl in ttls.values())


def _full(ttls: dict[str, int]) -> bool:
    return bool(ttls) and all(ttl > SIX_HOURS - 600 for ttl in ttls.values())


# The screen is drawn from the event's delta, which Reflex may send before it saves the
# state: the keys are waited for, not read once.


def test_a_tab_outside_telegram_is_kept_minutes(on_redis: AppServer, phone_page: Any) -> None:
    phone_page.goto(on_redis.url + "/")
    phone_page.locator("#gate[data-status='outside']").wait_for(timeout=15_000)
    until(lambda: _short(_ttls(phone_page)), "the tab's state, kept minutes", 15, phone_page)


def test_a_forged_launch_is_kept_minutes(on_redis: AppServer, phone_page: Any) -> None:
    signed = httpx.get(on_redis.launch_url("bob"), follow_redirects=False, timeout=5)
    phone_page.goto(on_redis.url + signed.headers["location"].replace("Bob", "Rob"))
    phone_page.locator("#gate-reason").wait_for(timeout=15_000)
    until(lambda: _short(_ttls(phone_page)), "the tab's state, kept minutes", 15, phone_page)


def test_binding_gives_the_whole_tab_the_full_expiration(
    on_redis: AppServer, phone_page: Any
) -> None:
    phone_page.goto(on_redis.url + "/")
    phone_page.locator("#gate[data-status='outside']").wait_for(timeout=15_000)
    before = until(lambda: _short(t := _ttls(phone_page)) and t, "short", 15, phone_page)

    phone_page.goto(on_redis.launch_url("bob"))  # the same tab, so the same Reflex token
    phone_page.locator("#member-name").wait_for(timeout=15_000)
    # Every key, also those the binding event did not load, such as the send form's.
    after = until(lambda: _full(t := _ttls(phone_page)) and t, "full", 15, phone_page)
    assert set(before) <= set(after)
