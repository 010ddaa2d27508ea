"""How state reaches the domain: the app's Database, calls run off the event loop."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import InterfaceError, InvalidatePoolError, OperationalError

from app.domain.db import get_database
from app.domain.errors import Unavailable

T = TypeVar("T")


async def call(fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run a blocking domain function in a worker thread with the app's database.

    A database that cannot answer (a restart, a lost connection) becomes `Unavailable`, a
    DomainError every screen already shows as a message with its action still there to
    retry, instead of an exception that Reflex shows as "An error occurred"."""
    try:
        return await asyncio.to_thread(fn, get_database(), *args, **kwargs)
    except (OperationalError, InterfaceError, InvalidatePoolError) as exc:
        raise Unavailable("The service is busy for a moment; try again.") from exc


def action_key(prefix: str) -> str:
    """A fresh idempotency key: one per intended action, sent with the press."""
    return f"{prefix}-{uuid.uuid4().hex}"


def text_arg(value: Any, limit: int) -> str:
    """Text from the client: anything that is not text becomes empty, and nothing longer
    than the field allows is kept."""
    return value[:limit] if isinstance(value, str) else ""
