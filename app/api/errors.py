"""The one shape of every error answer, and the statuses the API declares for its routes.

Every error the API sends is `{"error": code, "message": text}` (401 adds `reason`, 422 the
first `errors`), so the OpenAPI schema can say so once for all routes and a client (or
schemathesis) can rely on it.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException


class Problem(BaseModel):
    loc: list[str]
    msg: str


class ErrorBody(BaseModel):
    error: str
    message: str
    reason: str | None = None
    errors: list[Problem] | None = None


_MEANINGS = {
    400: "Bad input: an invalid value, key or header",
    401: "Missing, forged or expired initData (`Authorization: tma <initData>`)",
    404: "No such member, item, key or route",
    405: "The route does not take this method",
    409: "An idempotency key reused for another action, or the store is full",
    413: "The body is larger than the API reads",
    422: "The body or parameters do not match the schema",
    429: "Past the member's rate limit (see Retry-After)",
    503: "The database or Redis is unavailable (see Retry-After)",
}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in _MEANINGS.items()
}


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own answers (no such route, method not allowed) in the same shape."""
    assert isinstance(exc, StarletteHTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    return JSONResponse(
        {"error": codes.get(exc.status_code, "http_error"), "message": str(exc.detail)},
        status_code=exc.status_code,
        headers=exc.headers,
    )


def install(api: FastAPI) -> None:
    api.add_exception_handler(StarletteHTTPException, _http_error)
