"""No request can stall the app: oversized bodies are refused before they are read, and a
bad body's answer is short. Against the app as `make run` serves it (one worker, SQLite)."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from app.telegram.signing import sign_init_data
from miniapp_testing.server import AppServer

USER = {"id": 7_100_000_001, "first_name": "Flood"}
# What the hostile client sent: 200,000 keys of the wrong type, about 600 KB each.
FLOOD = json.dumps({"keys": [1] * 200_000}).encode()


def _headers(server: AppServer) -> dict[str, str]:
    return {
        "Authorization": f"tma {sign_init_data(USER, server.bot_token)}",
        "Content-Type": "application/json",
    }


def test_ten_huge_bodies_at_once_do_not_stall_the_app(miniapp: AppServer) -> None:
    headers = _headers(miniapp)

    def flood(_: int) -> httpx.Response:
        return httpx.post(f"{miniapp.url}/cache/get", content=FLOOD, headers=headers, timeout=60)

    with ThreadPoolExecutor(10) as pool:
        sent = [pool.submit(flood, n) for n in range(10)]
        started = time.monotonic()
        ping = httpx.get(f"{miniapp.url}/ping", timeout=10)
        ping_s = time.monotonic() - started
        answers = [f.result() for f in sent]
    assert ping.status_code == 200
    assert ping_s < 1.0, f"/ping took {ping_s:.2f} s while the large requests ran"
    for answer in answers:
        assert answer.status_code == 413, answer.text[:200]
        assert answer.json()["error"] == "too_large"
        assert len(answer.content) < 200


def test_a_bad_body_within_the_limit_gets_a_short_answer(miniapp: AppServer) -> None:
    body = json.dumps({"keys": [1] * 1000}).encode()  # 3 KB, every item the wrong type
    answer = httpx.post(
        f"{miniapp.url}/cache/get", content=body, headers=_headers(miniapp), timeout=30
    )
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["error"] == "invalid_request"
    assert len(problem["errors"]) <= 3
    assert len(answer.content) < 1000, "the answer echoes the request"
