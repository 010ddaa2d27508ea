"""The FastAPI app mounted beside Reflex through rx.App(api_transformer=...)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError

from app.api import (
    auth,
    cache_routes,
    community,
    dev,
    errors,
    health,
    limits,
    me,
    metrics,
    rate_limit,
)
from app.api.errors import ERROR_RESPONSES
from app.settings import get_settings


def build_api() -> FastAPI:
    settings = get_settings()
    # The interactive docs load their scripts from a CDN: only for development.
    api = FastAPI(
        title="Community Mini App API",
        version="0.1.0",
        docs_url="/docs" if settings.is_dev else None,
        redoc_url="/redoc" if settings.is_dev else None,
        # Declared for every route: each answers some of them, always in this shape.
        responses=ERROR_RESPONSES,
    )
    limits.install(api, settings.max_body_bytes)
    errors.install(api)
    auth.install(api)
    rate_limit.install(api)
    api.add_exception_handler(OperationalError, _database_unavailable)
    api.add_exception_handler(DBAPIError, _database_unavailable)
    api.include_router(health.router)
    api.include_router(me.router)
    api.include_router(metrics.router)
    cache_routes.install(api)
    community.install(api)
    if settings.dev_launch:
        api.include_router(dev.router)
    return api


async def _database_unavailable(_request: Request, _exc: Exception) -> JSONResponse:
    # A lock timeout, a deadlock victim, a lost connection: the request did nothing, so
    # the client may retry (writes carry idempotency keys).
    return JSONResponse(
        {"error": "database_unavailable", "message": "The database is busy; try again."},
        status_code=503,
        headers={"Retry-After": "1"},
    )
