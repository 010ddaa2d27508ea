"""The app's settings for one test from the environment alone (no .env file, none of the
machine's variables), and what the app built from earlier settings dropped around it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app import cache
from app.cache.rate_limits import get_rate_limits
from app.domain import db
from app.settings import ENV_NAMES, Settings, get_settings

# configure(app_env="dev", bot_token=...) sets the variables and returns the new Settings.
Configure = Callable[..., Settings]


def reset_caches() -> None:
    """Forget the cached settings, database (its pool disposed), cache and backend, so the
    next call builds them from the environment as it is now."""
    if db.get_database.cache_info().currsize:
        db.get_database().dispose()
    for cached in (
        db.get_database,
        cache.get_cache,
        cache.get_backend,
        get_rate_limits,
        get_settings,
    ):
        cached.cache_clear()


def isolate_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """No .env file and none of the settings' variables from the machine, for this test."""
    monkeypatch.setitem(Settings.model_config, "env_file", None)
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    reset_caches()
