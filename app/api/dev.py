"""GET /dev/launch: open the app as a demo member outside Telegram (APP_ENV=dev only).

It signs initData with the dev bot token on the server, so the real validation path runs.
"""

from __future__ import annotations

import asyncio
import zlib
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import RedirectResponse

from app.domain.db import get_database
from app.domain.errors import DomainError
from app.domain.users import find_by_username
from app.domain.validation import normalize_username
from app.telegram.identity import bot_token
from app.telegram.launch import THEMES, launch_hash
from app.telegram.signing import sign_init_data

router = APIRouter(prefix="/dev", tags=["dev"])


def _demo_user(name: str) -> dict[str, Any]:
    try:
        key = normalize_username(name)
    except DomainError:
        raise HTTPException(400, "user must be a username like alice") from None
    profile = find_by_username(get_database(), key)
    if profile is not None:
        first, _, last = profile.name.partition(" ")
        user: dict[str, Any] = {"id": profile.id, "first_name": first, "username": profile.username}
        if last:
            user["last_name"] = last
        return user
    # A stable id per new name, far from the seeded ids.
    return {
        "id": 7_000_000_000 + zlib.crc32(key.encode()),
        "first_name": key.capitalize(),
        "username": key,
    }


@router.get("/launch", response_class=RedirectResponse, status_code=307)
async def launch(
    user: str = Query("alice", max_length=64),
    theme: Literal["light", "dark"] = "light",
    platform: str = Query("tdesktop", max_length=32),
    version: str = Query("8.0", pattern=r"^\d{1,2}\.\d{1,2}$"),
) -> RedirectResponse:
    data = await asyncio.to_thread(_demo_user, user)
    init_data = sign_init_data(data, bot_token(), extra={"chat_type": "sender"})
    fragment = launch_hash(init_data, version=version, platform=platform, theme=THEMES[theme])
    return RedirectResponse(f"/#{fragment}", status_code=307)
