"""How state reaches the domain: the app's Database, calls run off the event loop."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from app.domain.db import get_database

T = TypeVar("T")


async def call(fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run a blocking domain function in a worker thread with the app's database."""
    return await asyncio.to_thread(fn, get_database(), *args, **kwargs)


def action_key(prefix: str) -> str:
    """A fresh idempotency key: one per intended action, sent with the press."""
    return f"{prefix}-{uuid.uuid4().hex}"


def text_arg(value: Any, limit: int) -> str:
    """Text from the client: anything that is not text becomes empty, and nothing longer
    than the field allows is kept."""
    return value[:limit] if isinstance(value, str) else ""
