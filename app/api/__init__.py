"""The FastAPI app mounted beside Reflex through rx.App(api_transformer=...)."""

from __future__ import annotations

from fastapi import FastAPI

from app.api import auth, cache_routes, community, dev, health, me, metrics
from app.settings import get_settings


def build_api() -> FastAPI:
    api = FastAPI(title="Community Mini App API", version="0.1.0")
    auth.install(api)
    api.include_router(health.router)
    api.include_router(me.router)
    api.include_router(metrics.router)
    cache_routes.install(api)
    community.install(api)
    if get_settings().dev_launch:
        api.include_router(dev.router)
    return api
