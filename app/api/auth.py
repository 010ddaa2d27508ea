"""REST authentication: `Authorization: tma <initData>`, as Telegram Mini Apps send it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse

from app.telegram.identity import authenticate
from app.telegram.init_data import REASONS, InitData, InitDataError


class Unauthorized(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def telegram_auth(
    authorization: Annotated[str | None, Header(include_in_schema=True)] = None,
) -> InitData:
    """The caller's verified launch data; 401 with the reason otherwise, never 500."""
    if not authorization:
        raise Unauthorized("missing", "Send 'Authorization: tma <initData>'.")
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() != "tma" or not value.strip():
        raise Unauthorized("malformed", "The Authorization scheme must be 'tma <initData>'.")
    try:
        return authenticate(value.strip())
    except InitDataError as exc:
        raise Unauthorized(exc.reason, exc.message) from None


TelegramAuth = Annotated[InitData, Depends(telegram_auth)]


async def _unauthorized(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Unauthorized)
    return JSONResponse(
        {"error": "unauthorized", "reason": exc.reason, "message": exc.message},
        status_code=401,
        headers={"WWW-Authenticate": "tma"},
    )


def install(api: FastAPI) -> None:
    api.add_exception_handler(Unauthorized, _unauthorized)


__all__ = ["REASONS", "TelegramAuth", "Unauthorized", "install", "telegram_auth"]
