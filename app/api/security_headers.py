"""Headers every answer carries (pages, build files, the API): who may frame the app, no
MIME sniffing, no full URLs to other sites.

Telegram's web clients (web.telegram.org) show a Mini App in an iframe, so framing cannot be
refused outright (no DENY); `frame-ancestors` allows exactly them and the app itself. The
policy says nothing about scripts or styles: Reflex's pages carry inline scripts and
styles, and telegram-web-app.js comes from telegram.org in production, so a script policy
would need hashes of a build's inline code to mean anything.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADERS = {
    "Content-Security-Policy": (
        "frame-ancestors 'self' https://web.telegram.org; base-uri 'self'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def security_headers(app: ASGIApp) -> ASGIApp:
    """ASGI middleware (an rx.App api_transformer) adding HEADERS to every HTTP answer."""

    async def with_headers(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await app(scope, receive, send_with_headers)

    return with_headers
