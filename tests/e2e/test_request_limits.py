"""No request can stall the app: oversized bodies are refused before they are read, and a
bad body's answer is short. Against the app as `make run` serves it (one worker, SQLite)."""

from __future__ import annotations

import base64
import json
import os
import socket
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


def test_pages_carry_the_frame_policy_and_no_sniffing(miniapp: AppServer) -> None:
    for path in ("/", "/feed", "/health"):
        answer = httpx.get(f"{miniapp.url}{path}", timeout=30)
        policy = answer.headers["content-security-policy"]
        assert "frame-ancestors 'self' https://web.telegram.org" in policy, path
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_only_the_apps_own_origin_may_use_the_api_and_the_socket(miniapp: AppServer) -> None:
    headers = _headers(miniapp)
    foreign = httpx.get(
        f"{miniapp.url}/me", headers={**headers, "Origin": "https://evil.example"}, timeout=30
    )
    assert "access-control-allow-origin" not in foreign.headers
    own = httpx.get(f"{miniapp.url}/me", headers={**headers, "Origin": miniapp.url}, timeout=30)
    assert own.headers.get("access-control-allow-origin") == miniapp.url
    # The socket: engine.io refuses the upgrade from another site's page.
    assert _upgrade_status(miniapp, "https://evil.example") == 403
    assert _upgrade_status(miniapp, miniapp.url) == 101


def _upgrade_status(server: AppServer, origin: str) -> int:
    """The status line of a WebSocket upgrade to the Reflex socket, as a browser sends it."""
    request = (
        f"GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: localhost:{server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
        f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as conn:
        conn.sendall(request.encode())
        status_line = conn.makefile("rb").readline().decode()
    return int(status_line.split()[1])
