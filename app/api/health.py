"""GET /health: is the database answering, and Redis when one is configured."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from typing import Any, cast

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.domain.db import get_database
from app.settings import get_settings

router = APIRouter(tags=["health"])


def _check_database() -> dict[str, Any]:
    db = get_database()
    started = time.perf_counter()
    try:
        with db.read() as s:
            s.execute(text("SELECT 1"))
    except Exception as exc:  # any failure is a health fact, not a crash
        return {"ok": False, "backend": db.engine.dialect.name, "error": type(exc).__name__}
    return {
        "ok": True,
        "backend": db.engine.dialect.name,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


async def _check_redis() -> dict[str, Any]:
    url = get_settings().redis_url
    if not url:
        return {"ok": True, "configured": False, "backend": "in-process"}
    import redis.asyncio as aioredis

    client = aioredis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
    started = time.perf_counter()
    try:
        # redis.asyncio's ping is typed as sync-or-async (one stub for both clients).
        await cast(Awaitable[bool], client.ping())
    except Exception as exc:
        return {"ok": False, "configured": True, "error": type(exc).__name__}
    finally:
        await client.aclose()
    return {
        "ok": True,
        "configured": True,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


@router.get("/health")
async def health() -> JSONResponse:
    database, redis = await asyncio.gather(asyncio.to_thread(_check_database), _check_redis())
    ok = database["ok"] and redis["ok"]
    body = {"status": "ok" if ok else "degraded", "database": database, "redis": redis}
    return JSONResponse(body, status_code=200 if ok else 503)
