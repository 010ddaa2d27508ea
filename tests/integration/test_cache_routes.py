"""/cache routes on real Redis (DB 15): CloudStorage limits, auth failures, isolation
between members, clearing without a keyspace scan. FastAPI TestClient on build_api()."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from httpx import Response

from app.api import build_api
from app.cache.keys import member_store_key
from app.cache.store import MAX_KEYS, MAX_VALUE_CHARS
from app.domain import migrate
from app.telegram.signing import sign_init_data
from miniapp_testing.ports import free_port
from tests.support.settings import isolate_settings, reset_caches

pytestmark = pytest.mark.integration

TOKEN = "1234567890:AAF-cache-routes-token"
ANN: dict[str, Any] = {"id": 7_000_000_201, "first_name": "Ann"}
BEN: dict[str, Any] = {"id": 7_000_000_202, "first_name": "Ben"}


def configure_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, redis_url: str) -> None:
    url = f"sqlite:///{tmp_path / 'api.db'}"
    migrate.upgrade(url)
    isolate_settings(monkeypatch)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("APP_ENV", "dev")
    reset_caches()


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, redis_url: str) -> Iterator[TestClient]:
    configure_env(monkeypatch, tmp_path, redis_url)
    try:
        with TestClient(build_api(), follow_redirects=False) as test_client:
            yield test_client
    finally:
        reset_caches()


def auth(user: dict[str, Any], *, token: str = TOKEN, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"tma {sign_init_data(user, token, **kwargs)}"}


ANN_H, BEN_H = auth(ANN), auth(BEN)


def put(client: TestClient, key: str, value: Any, headers: dict[str, str]) -> Response:
    return client.put(f"/cache/{key}", json={"value": value}, headers=headers)


def assert_error(response: Response, status: int, error: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body, dict) and body.get("error"), body
    if error is not None:
        assert body["error"] == error, body
    assert body.get("message"), body
    return body


# ---------------------------------------------------------------------------------------
# The calls
# ---------------------------------------------------------------------------------------


def test_put_get_list_delete_round_trip(client: TestClient, redis_client: redis.Redis) -> None:
    assert put(client, "theme", "dark", ANN_H).status_code == 204
    assert put(client, "screen", "market", ANN_H).status_code == 204
    assert put(client, "theme", "light", ANN_H).status_code == 204  # overwrite
    assert client.get("/cache/theme", headers=ANN_H).json() == {"key": "theme", "value": "light"}
    assert client.get("/cache/", headers=ANN_H).json() == {"keys": ["screen", "theme"]}
    many = client.post("/cache/get", json={"keys": ["theme", "nope"]}, headers=ANN_H)
    assert many.status_code == 200 and many.json() == {"theme": "light", "nope": None}
    assert_error(client.get("/cache/nope", headers=ANN_H), 404)
    assert client.delete("/cache/theme", headers=ANN_H).status_code == 204
    assert client.delete("/cache/theme", headers=ANN_H).status_code == 204  # idempotent
    assert client.get("/cache/", headers=ANN_H).json() == {"keys": ["screen"]}
    assert client.post("/cache/delete", json={"keys": ["screen"]}, headers=ANN_H).status_code == 204
    assert client.get("/cache/", headers=ANN_H).json() == {"keys": []}
    # Stored as one hash per member, under the member's hash tag.
    put(client, "k", "v", ANN_H)
    assert redis_client.hgetall(member_store_key(ANN["id"])) == {b"k": b"v"}
    assert member_store_key(ANN["id"]) == f"ma:v1:{{u:{ANN['id']}}}:kv"


def test_values_keep_their_text(client: TestClient) -> None:
    for value in ["", " ", "ünï ☕ 😀", '{"json": [1, 2]}', "a\nb\tc", "\u0000x"]:
        assert put(client, "v", value, ANN_H).status_code == 204, repr(value)
        assert client.get("/cache/v", headers=ANN_H).json()["value"] == value


# ---------------------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["a", "A-z_0-9", "k" * 128])
def test_valid_keys(client: TestClient, key: str) -> None:
    assert put(client, key, "x", ANN_H).status_code == 204
    assert client.get(f"/cache/{key}", headers=ANN_H).json()["value"] == "x"


@pytest.mark.parametrize(
    "key",
    ["k" * 129, "a.b", "a%20b", "a:b", "%7Bu:1%7D", "%D0%BA%D0%BB%D1%8E%D1%87", "*"],
)
def test_invalid_keys_are_400_on_every_call(client: TestClient, key: str) -> None:
    assert_error(put(client, key, "x", ANN_H), 400, "invalid_key")
    assert_error(client.get(f"/cache/{key}", headers=ANN_H), 400)
    assert_error(client.delete(f"/cache/{key}", headers=ANN_H), 400)
    raw = key.replace("%20", " ")
    assert_error(client.post("/cache/get", json={"keys": [raw]}, headers=ANN_H), 400)
    assert_error(client.post("/cache/delete", json={"keys": [raw]}, headers=ANN_H), 400)
    assert client.get("/cache/", headers=ANN_H).json() == {"keys": []}


def test_a_slash_in_a_key_is_refused(client: TestClient, redis_client: redis.Redis) -> None:
    """ "a/b" reaches the key routes (a path parameter) and is refused like any bad key."""
    for method in ("PUT", "GET", "DELETE"):
        response = client.request(method, "/cache/a%2Fb", json={"value": "x"}, headers=ANN_H)
        assert_error(response, 400)
        assert response.json()["error"] == "invalid_key"
    assert client.get("/cache/", headers=ANN_H).json() == {"keys": []}
    assert not redis_client.exists(member_store_key(ANN["id"]))


def test_value_limit_is_4096_characters(client: TestClient) -> None:
    assert put(client, "big", "x" * MAX_VALUE_CHARS, ANN_H).status_code == 204
    assert len(client.get("/cache/big", headers=ANN_H).json()["value"]) == 4096
    assert put(client, "wide", "😀" * MAX_VALUE_CHARS, ANN_H).status_code == 204  # 4-byte chars
    body = assert_error(put(client, "big", "x" * (MAX_VALUE_CHARS + 1), ANN_H), 413)
    assert body["error"] == "value_too_large"
    assert_error(put(client, "huge", "x" * 1_000_000, ANN_H), 413)
    assert client.get("/cache/big", headers=ANN_H).json()["value"] == "x" * 4096  # unchanged
    assert_error(client.get("/cache/huge", headers=ANN_H), 404)


def test_value_limit_counts_characters_not_json_escapes(client: TestClient) -> None:
    body = json.dumps({"value": "я" * MAX_VALUE_CHARS})  # ensure_ascii: \u044f per char
    response = client.put(
        "/cache/ru", content=body, headers={**ANN_H, "Content-Type": "application/json"}
    )
    assert response.status_code == 204, response.text


@pytest.mark.parametrize(
    "body", [b"", b"not json", b'{"value": 5}', b'{"val": "x"}', b"[1]", b'"x"']
)
def test_malformed_bodies_are_400(client: TestClient, body: bytes) -> None:
    response = client.put(
        "/cache/k", content=body, headers={**ANN_H, "Content-Type": "application/json"}
    )
    assert_error(response, 400)


def test_at_most_1024_keys_per_member(client: TestClient, redis_client: redis.Redis) -> None:
    store_key = member_store_key(ANN["id"])
    redis_client.hset(store_key, mapping={f"k{i}": "v" for i in range(MAX_KEYS - 1)})
    assert put(client, "last", "v", ANN_H).status_code == 204  # the 1024th
    assert redis_client.hlen(store_key) == MAX_KEYS
    body = assert_error(put(client, "one-more", "v", ANN_H), 409, "too_many_keys")
    assert "1024" in body["message"]
    assert put(client, "k5", "new", ANN_H).status_code == 204  # overwriting is fine
    assert client.get("/cache/k5", headers=ANN_H).json()["value"] == "new"
    assert put(client, "x", "v", BEN_H).status_code == 204  # another member is not limited
    assert client.delete("/cache/k0", headers=ANN_H).status_code == 204
    assert put(client, "one-more", "v", ANN_H).status_code == 204
    assert redis_client.hlen(store_key) == MAX_KEYS
    # More keys than a store can hold at once: refused by the schema.
    assert_error(client.post("/cache/get", json={"keys": ["k"] * 1025}, headers=ANN_H), 422)


def test_concurrent_puts_never_pass_the_key_limit(
    client: TestClient, redis_client: redis.Redis
) -> None:
    store_key = member_store_key(ANN["id"])
    redis_client.hset(store_key, mapping={f"k{i}": "v" for i in range(MAX_KEYS - 5)})
    statuses: list[int] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        status = put(client, f"new{i}", "v", ANN_H).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(statuses) == [204] * 5 + [409] * 15
    assert redis_client.hlen(store_key) == MAX_KEYS


# ---------------------------------------------------------------------------------------
# Authentication
# ---------------------------------------------------------------------------------------

CALLS: list[tuple[str, str, Any]] = [
    ("GET", "/cache/", None),
    ("GET", "/cache/theme", None),
    ("PUT", "/cache/theme", {"value": "x"}),
    ("DELETE", "/cache/theme", None),
    ("DELETE", "/cache/", None),
    ("POST", "/cache/get", {"keys": ["theme"]}),
    ("POST", "/cache/delete", {"keys": ["theme"]}),
]


def bad_headers() -> dict[str, dict[str, str]]:
    signed = sign_init_data(ANN, TOKEN)
    forged_user = signed.replace("7000000201", "7000000202")
    return {
        "missing": {},
        "empty": {"Authorization": ""},
        "wrong scheme": {"Authorization": f"Bearer {signed}"},
        "no data": {"Authorization": "tma "},
        "other bot": auth(ANN, token="999:another-bots-token"),
        "forged user": {"Authorization": f"tma {forged_user}"},
        "expired": auth(ANN, auth_date=int(time.time()) - 3 * 24 * 3600),
        "garbage": {"Authorization": "tma %%%\u00ff"},
    }


@pytest.mark.parametrize("call", CALLS, ids=lambda c: f"{c[0]} {c[1]}")
def test_every_call_needs_valid_init_data(
    client: TestClient, redis_client: redis.Redis, call: tuple[str, str, Any]
) -> None:
    put(client, "theme", "dark", ANN_H)
    method, path, payload = call
    for name, headers in bad_headers().items():
        try:
            response = client.request(method, path, json=payload, headers=headers)
        except UnicodeEncodeError:
            continue  # the HTTP client itself refuses a non-latin-1 header
        body = assert_error(response, 401, "unauthorized")
        assert response.headers.get("www-authenticate") == "tma", name
        assert body.get("reason"), (name, body)
    # Nothing was changed by any of them.
    assert client.get("/cache/theme", headers=ANN_H).json()["value"] == "dark"


# ---------------------------------------------------------------------------------------
# Isolation
# ---------------------------------------------------------------------------------------


def test_members_never_see_or_clear_each_others_keys(
    client: TestClient, redis_client: redis.Redis
) -> None:
    put(client, "theme", "dark", ANN_H)
    put(client, "shared-name", "ann's", ANN_H)
    put(client, "shared-name", "ben's", BEN_H)

    assert client.get("/cache/shared-name", headers=BEN_H).json()["value"] == "ben's"
    assert client.get("/cache/shared-name", headers=ANN_H).json()["value"] == "ann's"
    assert_error(client.get("/cache/theme", headers=BEN_H), 404)
    assert client.get("/cache/", headers=BEN_H).json() == {"keys": ["shared-name"]}
    assert client.post("/cache/get", json={"keys": ["theme"]}, headers=BEN_H).json() == {
        "theme": None
    }

    # Ben deletes "theme" (his own, absent) and clears everything of his.
    assert client.delete("/cache/theme", headers=BEN_H).status_code == 204
    assert client.post("/cache/delete", json={"keys": ["theme"]}, headers=BEN_H).status_code == 204
    assert client.delete("/cache/", headers=BEN_H).status_code == 204
    assert client.get("/cache/", headers=BEN_H).json() == {"keys": []}
    assert client.get("/cache/", headers=ANN_H).json() == {"keys": ["shared-name", "theme"]}
    assert client.get("/cache/theme", headers=ANN_H).json()["value"] == "dark"

    # Ann clears hers: only her hash goes.
    put(client, "again", "x", BEN_H)
    assert client.delete("/cache/", headers=ANN_H).status_code == 204
    assert client.get("/cache/", headers=ANN_H).json() == {"keys": []}
    assert client.get("/cache/again", headers=BEN_H).json()["value"] == "x"
    assert not redis_client.exists(member_store_key(ANN["id"]))
    assert redis_client.exists(member_store_key(BEN["id"]))


def test_the_member_comes_from_init_data_only(client: TestClient) -> None:
    """No query parameter, header or body field can name another member."""
    put(client, "theme", "dark", ANN_H)
    tricks: list[Callable[[], Response]] = [
        lambda: client.get("/cache/theme", params={"user_id": ANN["id"]}, headers=BEN_H),
        lambda: client.get("/cache/theme", headers={**BEN_H, "X-User-Id": str(ANN["id"])}),
        lambda: client.post(
            "/cache/get", json={"keys": ["theme"], "user_id": ANN["id"]}, headers=BEN_H
        ),
    ]
    for trick in tricks:
        response = trick()
        assert response.status_code in (200, 404), response.text
        assert "dark" not in response.text


def test_clearing_does_not_scan_the_keyspace(client: TestClient, redis_client: redis.Redis) -> None:
    put(client, "a", "1", ANN_H)
    put(client, "b", "2", ANN_H)
    seen: list[str] = []
    done = threading.Event()
    sentinel = f"cache-routes-sentinel-{time.monotonic_ns()}"

    def watch() -> None:
        with redis_client.monitor() as monitor:
            ready.set()
            for command in monitor.listen():
                if command.get("db") == 15:
                    seen.append(str(command.get("command", "")))
                if sentinel in str(command.get("command", "")):
                    done.set()
                    return

    ready = threading.Event()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    assert ready.wait(5)
    time.sleep(0.05)
    assert client.delete("/cache/", headers=ANN_H).status_code == 204
    redis_client.echo(sentinel)
    assert done.wait(5), "MONITOR never saw the sentinel"
    commands = [c.split(" ", 1)[0].upper() for c in seen]
    assert not {"SCAN", "KEYS"} & set(commands), seen
    assert f"DEL {member_store_key(ANN['id'])}" in seen, seen


# ---------------------------------------------------------------------------------------
# Redis down, and the schema
# ---------------------------------------------------------------------------------------


def test_store_unavailable_is_503_json(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, redis_client: redis.Redis
) -> None:
    dead_port = free_port()  # nobody listens on it
    configure_env(monkeypatch, tmp_path, f"redis://127.0.0.1:{dead_port}/0")
    try:
        with TestClient(build_api()) as dead:
            assert_error(put(dead, "k", "v", ANN_H), 503, "store_unavailable")
            assert_error(dead.get("/cache/k", headers=ANN_H), 503)
            assert_error(dead.get("/cache/k", headers={}), 401)  # auth is checked first
    finally:
        reset_caches()


def test_openapi_documents_the_routes(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = schema["paths"]
    assert {"get", "put", "delete"} <= set(paths["/cache/{key}"])
    assert {"get", "delete"} <= set(paths["/cache/"])
