"""Long HTTP caching for the build's content-hashed files.

Everything under /assets/ is written by the bundler with a hash of its content in the
name, so a file never changes under its URL; a new build links new names from its HTML.
Told so (`immutable`, a year), a phone reopening the Mini App takes them from its cache
without asking. Without a Cache-Control header the browser guesses a freshness from the
file's age, and after a deploy every reopen sends one conditional request per file (17 on
the first screen), each a round trip on a mobile network. HTML and the unhashed files
(telegram-web-app.js, storage.js, styles.css) keep the default: they must be re-read.

It wraps the backend's ASGI app, which serves the build in the one-port setup `make run`
uses (`--single-port`); a separate frontend server or a CDN in front needs the same rule.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HASHED_PREFIX = "/assets/"
IMMUTABLE = "public, max-age=31536000, immutable"


def immutable_assets(app: ASGIApp) -> ASGIApp:
    """ASGI middleware (an rx.App api_transformer) adding IMMUTABLE to /assets/ answers."""

    async def with_cache_headers(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(HASHED_PREFIX):
            await app(scope, receive, send)
            return

        async def send_cached(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 304):
                headers = MutableHeaders(scope=message)
                # A page answered for a missing file (an SPA fallback) must not stick.
                if not headers.get("content-type", "").startswith("text/html"):
                    headers["Cache-Control"] = IMMUTABLE
            await send(message)

        await app(scope, receive, send_cached)

    return with_cache_headers
