"""How state reaches the domain: one shared Database, calls run off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from app.domain.db import Database, get_database

P = ParamSpec("P")
T = TypeVar("T")


def database() -> Database:
    return get_database()


async def call(fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Run a blocking domain function in a worker thread with the app's database."""
    return await asyncio.to_thread(fn, database(), *args, **kwargs)
