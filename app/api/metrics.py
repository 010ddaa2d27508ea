"""GET /metrics: the cache counters (and process metrics) in Prometheus' text format.

With several worker processes (REDIS_URL set, GRANIAN_WORKERS > 1) each worker counts on
its own; set PROMETHEUS_MULTIPROC_DIR to an empty directory before start and this route
adds up all workers (prometheus-client's multiprocess mode).
"""

from __future__ import annotations

import os

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
