"""GET /metrics: the cache counters (and process metrics) in Prometheus' text format.

With several worker processes (REDIS_URL set, GRANIAN_WORKERS > 1) each worker counts on
its own; set PROMETHEUS_MULTIPROC_DIR to an empty directory before start and this route
adds up all workers (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import hmac
import os
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from app.settings import get_settings

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response)
async def metrics(authorization: Annotated[str, Header()] = "") -> Response:
    # Process details are for the operator's scraper: with METRICS_TOKEN it must send
    # `Authorization: Bearer <token>`; in production without one the route is off.
    settings = get_settings()
    if settings.metrics_token:
        sent = authorization.removeprefix("Bearer ").strip()
        if not hmac.compare_digest(sent.encode(), settings.metrics_token.encode()):
            return JSONResponse(
                {"error": "unauthorized", "message": "Send the metrics token."},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
    elif not settings.is_dev:
        return JSONResponse({"error": "not_found", "message": "Not found."}, status_code=404)
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
