"""Per-member rate limits, counted in Redis so every process and instance counts together.

Each kind of request (writes, the /cache store, /me) has its rules, e.g. "5/second;60/minute",
as fixed windows per member (the `limits` library's counters: one INCR and EXPIRE per hit).
Without Redis they count in process, which is all there is then. A counter that cannot be
reached does not stop anyone: the limit is a guard against floods, not a gate members
depend on, and the rest of the app already copes with Redis being gone.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from functools import lru_cache

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

log = logging.getLogger(__name__)


class RateLimited(Exception):
    def __init__(self, kind: str, retry_after_s: int) -> None:
        self.kind = kind
        self.retry_after_s = retry_after_s
        self.message = f"Too many requests at once; try again in {retry_after_s} s."
        super().__init__(self.message)


class RateLimits:
    def __init__(self, storage_url: str, rules: Mapping[str, str]) -> None:
        options = {"socket_timeout": 0.25, "socket_connect_timeout": 0.25}
        storage = storage_from_string(
            storage_url, **(options if storage_url.startswith("redis") else {})
        )
        self._limiter = FixedWindowRateLimiter(storage)
        self._rules: dict[str, list[RateLimitItem]] = {
            kind: parse_many(text) for kind, text in rules.items() if text
        }
        self._last_logged = -1e9

    def hit(self, kind: str, member_id: int) -> None:
        """Count one request of `kind` by `member_id`; RateLimited when past a rule."""
        for item in self._rules.get(kind, ()):
            try:
                allowed = self._limiter.hit(item, kind, str(member_id))
                if allowed:
                    continue
                reset_at = self._limiter.get_window_stats(item, kind, str(member_id)).reset_time
            except Exception as exc:  # the counter's Redis is down: let the request through
                now = time.monotonic()
                if now - self._last_logged > 60:
                    self._last_logged = now
                    log.warning("rate limits unavailable (%s); not limiting", exc)
                return
            raise RateLimited(kind, max(1, math.ceil(reset_at - time.time())))


@lru_cache(maxsize=1)
def get_rate_limits() -> RateLimits:
    from app.settings import get_settings

    settings = get_settings()
    return RateLimits(
        settings.redis_url or "memory://",
        {"writes": settings.rate_writes, "cache": settings.rate_cache, "me": settings.rate_me},
    )
