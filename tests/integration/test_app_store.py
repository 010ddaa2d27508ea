"""The app's own per-member keys (state/navigation.py's last screen) on Redis: apart from the
member's /cache store, so a member who filled all 1,024 keys still gets their screens."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from app.cache.backends import RedisBackend
from app.cache.keys import app_store_key, member_store_key
from app.cache.store import MAX_KEYS, TooManyKeys, UserStore
from state import navigation

pytestmark = pytest.mark.integration
MEMBER = 7_300_000_001


def _run(coro):  # Playwright's sync API may keep a loop running on this thread
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def test_a_full_store_leaves_the_last_screen_alone(
    redis_url: str, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = RedisBackend(redis_url)
    monkeypatch.setattr(navigation, "get_app_store", lambda: UserStore(backend, app_store_key))
    monkeypatch.setattr(navigation, "SCREENS", {"/", "/feed"})  # app.py registers them
    redis_client.hset(member_store_key(MEMBER), mapping={f"k{i}": "v" for i in range(MAX_KEYS)})
    with pytest.raises(TooManyKeys):
        UserStore(backend).put(MEMBER, "one-more", "v")

    _run(navigation.remember_screen(MEMBER, "/feed"))
    assert _run(navigation.recall_screen(MEMBER)) == "/feed"
    assert redis_client.hlen(member_store_key(MEMBER)) == MAX_KEYS
    assert navigation.SCREEN_KEY not in UserStore(backend).keys(MEMBER)


def test_a_store_that_refuses_never_breaks_a_screen(monkeypatch: pytest.MonkeyPatch) -> None:
    class Refusing:
        def get(self, user_id: int, key: str) -> str:
            raise TooManyKeys("refused")

        def put(self, user_id: int, key: str, value: str) -> None:
            raise TooManyKeys("refused")

    monkeypatch.setattr(navigation, "get_app_store", Refusing)
    monkeypatch.setattr(navigation, "SCREENS", {"/", "/feed"})
    _run(navigation.remember_screen(MEMBER, "/feed"))  # nothing raised: not remembered
    assert _run(navigation.recall_screen(MEMBER)) is None
