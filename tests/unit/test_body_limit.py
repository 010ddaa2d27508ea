"""The body cap (app/api/limits.py) on a small app of its own: a declared size over the
cap is refused before reading, an undeclared (chunked) body once it passes the cap."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from app.api import limits

CAP = 1000


def _client() -> tuple[TestClient, list[int]]:
    api = FastAPI()
    limits.install(api, CAP)
    read: list[int] = []

    @api.post("/echo-size")
    async def echo_size(request: Request) -> dict[str, int]:
        body = await request.body()
        read.append(len(body))
        return {"size": len(body)}

    return TestClient(api), read


def _chunks(total: int, size: int = 100) -> Iterator[bytes]:
    for _ in range(total // size):
        yield b"x" * size


def test_a_body_within_the_cap_is_read() -> None:
    client, _ = _client()
    answer = client.post("/echo-size", content=b"x" * CAP)
    assert answer.status_code == 200 and answer.json() == {"size": CAP}


def test_a_declared_size_over_the_cap_is_refused_unread() -> None:
    client, read = _client()
    answer = client.post("/echo-size", content=b"x" * (CAP + 1))
    assert answer.status_code == 413
    assert answer.json()["error"] == "too_large"
    assert read == []


def test_a_chunked_body_is_cut_off_at_the_cap() -> None:
    client, read = _client()
    answer = client.post("/echo-size", content=_chunks(CAP * 5))
    assert answer.status_code == 413
    assert read == []


def test_a_content_length_that_is_not_a_number_is_400() -> None:
    client, _ = _client()
    answer = client.post("/echo-size", content=b"{}", headers={"Content-Length": "ten"})
    assert answer.status_code == 400
