"""Only the build's content-hashed files are cached for good."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from app.api.static_cache import IMMUTABLE, immutable_assets


def _file(request) -> Response:
    if request.url.path.endswith("missing.js"):
        return PlainTextResponse("not found", status_code=404)
    if request.url.path.endswith("fallback.js"):
        return HTMLResponse("<html>the app</html>", headers={"Cache-Control": "no-cache"})
    return PlainTextResponse("body", headers={"Cache-Control": "no-cache"})


def client() -> TestClient:
    app = Starlette(routes=[Route("/{path:path}", _file)])
    return TestClient(immutable_assets(app))


def test_hashed_build_files_are_immutable() -> None:
    response = client().get("/assets/root-CFTmOdJW.js")
    assert response.status_code == 200
    assert response.headers["cache-control"] == IMMUTABLE  # replaced, not added twice


def test_pages_unhashed_files_and_errors_keep_their_headers() -> None:
    c = client()
    for path in ("/", "/feed", "/storage.js", "/external/telegram-web-app.js", "/assetsx/a.js"):
        assert c.get(path).headers["cache-control"] == "no-cache", path
    assert c.get("/assets/fallback.js").headers["cache-control"] == "no-cache"
    missing = c.get("/assets/missing.js")
    assert missing.status_code == 404
    assert "cache-control" not in missing.headers
