"""End-to-end fixtures: the app as `make run` serves it and a phone-sized Chromium page.

The fixtures themselves live in the e2e kit (miniapp_testing.plugin, loaded by
tests/conftest.py); the names here are the ones the older tests use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from app.domain.db import Database
from app.domain.users import find_by_username
from miniapp_testing.plugin import phone_context
from miniapp_testing.server import AppServer


@pytest.fixture(scope="session")
def app_server(miniapp: AppServer) -> AppServer:
    return miniapp


@pytest.fixture(scope="session")
def browser(chromium: Any) -> Any:
    return chromium


@pytest.fixture
def phone_page(chromium: Any) -> Iterator[Any]:
    context = phone_context(chromium)
    yield context.new_page()
    context.close()


@pytest.fixture
def member(miniapp: AppServer) -> Callable[[str], dict[str, Any]]:
    """Telegram's user object for a seeded member, as a client would send it."""
    db = Database(miniapp.database_url)

    def user(username: str) -> dict[str, Any]:
        found = find_by_username(db, username)
        assert found is not None, f"@{username} is not seeded"
        first, _, last = found.name.partition(" ")
        fields = {"id": found.id, "first_name": first, "username": found.username}
        return {**fields, "last_name": last} if last else fields

    return user
