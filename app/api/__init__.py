"""The FastAPI app mounted beside Reflex through rx.App(api_transformer=...)."""

from __future__ import annotations

from fastapi import FastAPI

from app.api.health import router as health_router


def build_api() -> FastAPI:
    api = FastAPI(title="Community Mini App API", version="0.1.0")
    api.include_router(health_router)
    return api
