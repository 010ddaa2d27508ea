"""How state reaches the domain: the app's Database, calls run off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from app.domain.db import get_database

T = TypeVar("T")


async def call(fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run a blocking domain function in a worker thread with the app's database."""
    return await asyncio.to_thread(fn, get_database(), *args, **kwargs)
