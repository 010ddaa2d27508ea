"""What the API shows and to whom: the docs and /metrics in production, and the headers
every answer carries (app/api/security_headers.py)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api import build_api
from app.api.security_headers import HEADERS, security_headers
from app.domain import migrate
from tests.support.settings import Configure

TOKEN = "1234567890:AAF-policy-test-token"


def _api(configure: Configure, tmp_path: Path, **settings: str) -> TestClient:
    url = f"sqlite:///{tmp_path / 'api.db'}"
    migrate.upgrade(url)
    configure(database_url=url, **settings)
    return TestClient(build_api())


def test_production_has_no_interactive_docs_and_no_open_metrics(
    configure: Configure, tmp_path: Path
) -> None:
    client = _api(configure, tmp_path, app_env="prod", bot_token=TOKEN)
    for path in ("/docs", "/redoc", "/metrics"):
        assert client.get(path).status_code == 404, path
    assert client.get("/openapi.json").status_code == 200  # the schema stays for clients


def test_metrics_with_a_token_need_it(configure: Configure, tmp_path: Path) -> None:
    client = _api(configure, tmp_path, app_env="prod", bot_token=TOKEN, metrics_token="s3cret")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    answer = client.get("/metrics", headers={"Authorization": "Bearer s3cret"})
    assert answer.status_code == 200 and "cache_" in answer.text


def test_development_keeps_the_docs_and_metrics(configure: Configure, tmp_path: Path) -> None:
    token_file = tmp_path / "dev-bot-token"
    token_file.write_text(TOKEN)
    client = _api(configure, tmp_path, app_env="dev", bot_token="", dev_token_file=str(token_file))
    assert client.get("/docs").status_code == 200
    assert client.get("/metrics").status_code == 200


def test_every_answer_carries_the_headers() -> None:
    inner = FastAPI()

    @inner.get("/page")
    async def page() -> dict[str, str]:
        return {"ok": "yes"}

    client = TestClient(security_headers(inner))
    for path in ("/page", "/missing"):
        answer = client.get(path)
        for name, value in HEADERS.items():
            assert answer.headers[name] == value, (path, name)
    assert "frame-ancestors 'self' https://web.telegram.org" in HEADERS["Content-Security-Policy"]
