"""Per-member rate limits (app/cache/rate_limits.py) and their 429 on the REST routes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.api import build_api
from app.cache.rate_limits import RateLimited, RateLimits
from app.domain import migrate
from miniapp_testing.ports import free_port
from miniapp_testing.telegram import sign_init_data
from tests.support.settings import Configure

TOKEN = "1234567890:AAF-rate-limit-token"
ANN: dict[str, Any] = {"id": 7_400_000_001, "first_name": "Ann"}
BEN: dict[str, Any] = {"id": 7_400_000_002, "first_name": "Ben"}


def test_a_member_past_a_rule_is_told_when_to_come_back() -> None:
    limits = RateLimits("memory://", {"writes": "3/minute"})
    for _ in range(3):
        limits.hit("writes", 1)
    with pytest.raises(RateLimited) as info:
        limits.hit("writes", 1)
    assert 1 <= info.value.retry_after_s <= 60
    assert "try again in" in info.value.message
    limits.hit("writes", 2)  # another member has a budget of their own
    limits.hit("cache", 1)  # and other kinds too (no rule: no limit)


def test_every_rule_of_a_kind_counts() -> None:
    limits = RateLimits("memory://", {"me": "2/second;3/minute"})
    limits.hit("me", 1)
    limits.hit("me", 1)
    with pytest.raises(RateLimited):
        limits.hit("me", 1)  # the per-second rule


def test_an_unreachable_counter_lets_requests_through() -> None:
    limits = RateLimits(f"redis://127.0.0.1:{free_port()}/0", {"writes": "1/minute"})
    for _ in range(3):
        limits.hit("writes", 1)  # Redis is not there: not limiting, not failing


def _client(configure: Configure, tmp_path: Path, **rules: str) -> TestClient:
    token_file = tmp_path / "dev-bot-token"
    token_file.write_text(TOKEN)
    url = f"sqlite:///{tmp_path / 'api.db'}"
    migrate.upgrade(url)
    configure(
        database_url=url, app_env="dev", bot_token="", dev_token_file=str(token_file), **rules
    )
    return TestClient(build_api())


def _auth(user: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"tma {sign_init_data(user, TOKEN)}"}


def test_rest_answers_429_with_retry_after(configure: Configure, tmp_path: Path) -> None:
    client = _client(
        configure, tmp_path, rate_me="2/minute", rate_cache="3/minute", rate_writes="1/minute"
    )
    assert [client.get("/me", headers=_auth(ANN)).status_code for _ in range(3)] == [200, 200, 429]
    refused = client.get("/me", headers=_auth(ANN))
    assert refused.json()["error"] == "rate_limited"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert client.get("/me", headers=_auth(BEN)).status_code == 200  # Ben's own budget

    statuses = [client.get("/cache/", headers=_auth(ANN)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]

    body = {"to": "@nobody_here", "amount": 1, "idempotency_key": "rate-limit-key-1"}
    first = client.post("/api/transfers", json=body, headers=_auth(BEN))
    assert first.status_code == 404  # counted, then refused by the domain (no such member)
    again = client.post("/api/transfers", json=body, headers=_auth(BEN))
    assert again.status_code == 429
