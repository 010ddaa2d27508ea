"""Redis (or in-process) caching and the per-user store; no Reflex, no state imports."""

from __future__ import annotations

from functools import lru_cache

from app.cache.backends import Backend, MemoryBackend, RedisBackend
from app.cache.keys import app_store_key
from app.cache.readthrough import Cache
from app.cache.store import UserStore


def make_backend(redis_url: str | None) -> Backend:
    return RedisBackend(redis_url) if redis_url else MemoryBackend()


@lru_cache(maxsize=1)
def get_backend() -> Backend:
    from app.settings import get_settings

    return make_backend(get_settings().redis_url)


@lru_cache(maxsize=1)
def get_cache() -> Cache:
    # On Redis, shared families are also kept in process, coherent by pub/sub (near.py).
    return Cache(get_backend(), near=True)


def get_store() -> UserStore:
    """The per-user store behind /cache, on the app's backend."""
    return UserStore(get_backend())


def get_app_store() -> UserStore:
    """What the app keeps per member (its last screen), apart from the member's store."""
    return UserStore(get_backend(), app_store_key)


__all__ = [
    "Backend",
    "Cache",
    "MemoryBackend",
    "RedisBackend",
    "UserStore",
    "get_app_store",
    "get_backend",
    "get_cache",
    "get_store",
]
