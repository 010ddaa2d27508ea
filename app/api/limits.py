"""What a request may cost before anyone reads it: a capped body, short validation errors.

Bodies are refused by their declared Content-Length before a byte is read, and by count
while streaming when there is none (chunked), so no request makes the server buffer or
parse more than `max_body_bytes`. A validation error names a few fields and never echoes
the input back: a body of 200,000 wrong keys must not become a 20 MB answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_ERRORS_SHOWN = 3


class _TooLarge(Exception):
    pass


def _too_large(max_bytes: int) -> JSONResponse:
    return JSONResponse(
        {"error": "too_large", "message": f"A request body is at most {max_bytes:,} bytes."},
        status_code=413,
    )


class BodyLimit:
    """Pure ASGI middleware (it must see the body before any route or parser does)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await JSONResponse(
                    {"error": "bad_request", "message": "Content-Length must be a number."},
                    status_code=400,
                )(scope, receive, send)
                return
            if int(declared) > self.max_bytes:
                await _too_large(self.max_bytes)(scope, receive, send)
                return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:
                await _too_large(self.max_bytes)(scope, receive, send)


async def _short_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, Any]] = [
        {"loc": [str(part) for part in error.get("loc", ())][:6], "msg": error.get("msg", "")}
        for error in exc.errors()[:MAX_ERRORS_SHOWN]
    ]
    total = len(exc.errors())
    return JSONResponse(
        {
            "error": "invalid_request",
            "message": f"The request is not valid ({total:,} problem{'s' if total != 1 else ''}).",
            "errors": errors,
        },
        status_code=422,
    )


def install(api: FastAPI, max_body_bytes: int) -> None:
    api.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    api.add_exception_handler(RequestValidationError, _short_validation_error)
