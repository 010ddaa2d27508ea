"""Per-member rate limits on the REST routes: a dependency per kind, and the 429 answer."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request, params
from fastapi.responses import JSONResponse

from app.api.auth import TelegramAuth
from app.cache.rate_limits import RateLimited, get_rate_limits


def limit(kind: str) -> params.Depends:
    """For a route's or router's `dependencies=[...]`: count one request of `kind` for the
    authenticated member."""

    async def count(auth: TelegramAuth) -> None:
        # A Redis round trip: off the event loop, like every other store call.
        await asyncio.to_thread(get_rate_limits().hit, kind, auth.user.id)

    return params.Depends(count)


async def _too_many(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RateLimited)
    return JSONResponse(
        {"error": "rate_limited", "message": exc.message},
        status_code=429,
        headers={"Retry-After": str(exc.retry_after_s)},
    )


def install(api: FastAPI) -> None:
    api.add_exception_handler(RateLimited, _too_many)
