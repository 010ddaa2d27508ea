"""End-to-end fixtures: the app as `make run` serves it and a phone-sized Chromium page.

The fixtures themselves live in the e2e kit (miniapp_testing.plugin, loaded by
tests/conftest.py); the names here are the ones the older tests use.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

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
