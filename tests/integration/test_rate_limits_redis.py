"""Rate limits on Redis: two processes (two RateLimits on one Redis) count one budget."""

from __future__ import annotations

import pytest

from app.cache.rate_limits import RateLimited, RateLimits

pytestmark = pytest.mark.integration


def test_instances_share_a_members_budget(redis_url: str) -> None:
    one = RateLimits(redis_url, {"writes": "4/minute"})
    two = RateLimits(redis_url, {"writes": "4/minute"})
    one.hit("writes", 42)
    two.hit("writes", 42)
    one.hit("writes", 42)
    two.hit("writes", 42)
    with pytest.raises(RateLimited):
        one.hit("writes", 42)
    with pytest.raises(RateLimited):
        two.hit("writes", 42)
    one.hit("writes", 43)
