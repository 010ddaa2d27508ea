"""`configure`: the app's settings for one test, set through the environment only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.settings import Settings, get_settings
from tests.support.settings import Configure, isolate_settings, reset_caches


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Configure]:
    """Set settings through the environment only; no .env file, caches reset both ways."""
    isolate_settings(monkeypatch)

    def apply(**values: str) -> Settings:
        for name, value in values.items():
            monkeypatch.setenv(name.upper(), value)
        reset_caches()
        return get_settings()

    yield apply
    reset_caches()
