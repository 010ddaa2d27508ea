"""A small REST face of the community for bots and scripts: the feed, and sending points.

Same services as the screens (cached reads, idempotent writes); the member is always the
one the initData names.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictInt

from app.api.auth import TelegramAuth
from app.api.rate_limit import limit
from app.domain import queries, transfers
from app.domain.db import get_database
from app.domain.errors import DomainError, IdempotencyConflict, NotFound

# Under /api: the screens own /feed and the other page paths.
router = APIRouter(prefix="/api", tags=["community"])


class TransferIn(BaseModel):
    to: str = Field(max_length=64, description="recipient's @username")
    # Strict: JSON true is not 1 point, and 1.0 is not a whole number of points either.
    amount: StrictInt
    note: str | None = Field(default=None, max_length=1000)
    idempotency_key: str = Field(max_length=128)


@router.get("/feed")
async def feed(
    auth: TelegramAuth,
    cursor: str | None = Query(default=None, max_length=64),
    limit: int = Query(default=20, ge=1, le=100),
) -> dict[str, Any]:
    page = await asyncio.to_thread(queries.feed_page, get_database(), cursor, limit)
    return dataclasses.asdict(page)


@router.post("/transfers", dependencies=[limit("writes")])
async def send_points(payload: TransferIn, auth: TelegramAuth) -> dict[str, Any]:
    result = await asyncio.to_thread(
        transfers.transfer,
        get_database(),
        auth.user.id,
        payload.to,
        payload.amount,
        payload.note,
        payload.idempotency_key,
    )
    return dataclasses.asdict(result)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = (
        404 if isinstance(exc, NotFound) else 409 if isinstance(exc, IdempotencyConflict) else 400
    )
    return JSONResponse({"error": exc.code, "message": exc.message}, status_code=status)


def install(api: FastAPI) -> None:
    api.add_exception_handler(DomainError, _domain_error)
    api.include_router(router)
