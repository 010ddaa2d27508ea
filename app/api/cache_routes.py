"""/cache: the caller's own key/value store, a drop-in for Telegram CloudStorage.

Authenticated with `Authorization: tma <initData>`; the member comes from the verified
initData only, so no request can reach another member's keys.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Body, FastAPI, Path, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from app.api.auth import TelegramAuth
from app.api.rate_limit import limit
from app.cache import get_store
from app.cache.backends import BackendError
from app.cache.store import MAX_KEYS, MAX_VALUE_CHARS, StoreError, ValueTooLarge

router = APIRouter(prefix="/cache", tags=["cache"], dependencies=[limit("cache")])
# Paths are matched before validation, so the handler can answer 400 with our message.
KeyPath = Annotated[str, Path(description="1-128 characters of A-Z, a-z, 0-9, _ and -")]
# JSON may spell one character as a 12-byte surrogate pair escape (an emoji as \ud83d\ude00):
# bodies are capped by that worst case, the value itself by characters.
MAX_BODY_BYTES = MAX_VALUE_CHARS * 12 + 64


class Value(BaseModel):
    value: str


class Entry(BaseModel):
    key: str
    value: str


class KeyList(BaseModel):
    keys: list[str]


class Keys(BaseModel):
    # Capped in the schema (422 beyond it); each key is checked by the store (400).
    keys: list[str] = Field(max_length=MAX_KEYS)


@router.get("/", response_model=KeyList, summary="List my keys (CloudStorage getKeys)")
async def list_keys(auth: TelegramAuth) -> KeyList:
    return KeyList(keys=await asyncio.to_thread(get_store().keys, auth.user.id))


@router.get("/{key:path}", response_model=Entry, summary="Read one value (getItem)")
async def get_value(key: KeyPath, auth: TelegramAuth) -> Any:
    value = await asyncio.to_thread(get_store().get, auth.user.id, key)
    if value is None:
        return JSONResponse({"error": "not_found", "message": "No such key."}, status_code=404)
    return Entry(key=key, value=value)


@router.put("/{key:path}", status_code=204, summary="Store a value (setItem)")
async def put_value(
    key: KeyPath,
    auth: TelegramAuth,
    request: Request,
) -> Response:
    # Read the body ourselves: the 4096-character limit must answer 413, and a huge body
    # must be refused before it is parsed.
    declared = request.headers.get("content-length") or "0"
    if not declared.isdigit():
        raise StoreError("Content-Length must be a number.")
    if int(declared) > MAX_BODY_BYTES:
        raise_too_large()
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise_too_large()
    try:
        value = Value.model_validate_json(body).value
    except ValueError:
        raise StoreError('Send JSON like {"value": "..."}.') from None
    await asyncio.to_thread(get_store().put, auth.user.id, key, value)
    return Response(status_code=204)


@router.post("/get", response_model=dict[str, str | None], summary="Read many (getItems)")
async def get_many(payload: Annotated[Keys, Body()], auth: TelegramAuth) -> Any:
    return await asyncio.to_thread(get_store().get_many, auth.user.id, payload.keys)


@router.post("/delete", status_code=204, summary="Delete many (removeItems)")
async def delete_many(payload: Annotated[Keys, Body()], auth: TelegramAuth) -> Response:
    await asyncio.to_thread(get_store().delete, auth.user.id, payload.keys)
    return Response(status_code=204)


@router.delete("/", status_code=204, summary="Delete all my keys")
async def clear(auth: TelegramAuth) -> Response:
    await asyncio.to_thread(get_store().clear, auth.user.id)
    return Response(status_code=204)


@router.delete("/{key:path}", status_code=204, summary="Delete one (removeItem)")
async def delete_value(key: KeyPath, auth: TelegramAuth) -> Response:
    await asyncio.to_thread(get_store().delete, auth.user.id, [key])
    return Response(status_code=204)


def raise_too_large() -> None:
    raise ValueTooLarge(f"A value is at most {MAX_VALUE_CHARS} characters.")


async def _store_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StoreError)
    return JSONResponse({"error": exc.code, "message": exc.message}, status_code=exc.status)


async def _backend_error(_request: Request, _exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"error": "store_unavailable", "message": "The store is unavailable; try again."},
        status_code=503,
        headers={"Retry-After": "1"},
    )


def install(api: FastAPI) -> None:
    api.add_exception_handler(StoreError, _store_error)
    api.add_exception_handler(BackendError, _backend_error)
    api.include_router(router)
