"""GET /me: who the initData says you are, as the app knows you."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter

from app.api.auth import TelegramAuth
from app.api.rate_limit import limit
from app.domain.db import get_database
from app.domain.users import upsert_user
from app.telegram.identity import is_admin

router = APIRouter(tags=["identity"])


@router.get("/me", dependencies=[limit("me")])
async def me(auth: TelegramAuth) -> dict[str, Any]:
    profile = await asyncio.to_thread(
        upsert_user, get_database(), auth.user.model_dump(exclude_none=True)
    )
    return {
        "id": profile.id,
        "username": profile.username,
        "name": profile.name,
        "balance": profile.balance,
        "is_admin": is_admin(profile.id),
    }
