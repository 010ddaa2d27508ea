"""One typed settings object, read from the environment once."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "app.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{DEFAULT_SQLITE_PATH}"
    redis_url: str | None = None
    # Reflex's tab states and locks in a Redis of their own (default: REDIS_URL), so a flood
    # of tab states cannot crowd out the cache and the members' stores.
    state_redis_url: str | None = None
    bot_token: str | None = None
    app_env: Literal["dev", "prod"] = "dev"
    port: int = 3000
    # Comma-separated Telegram user ids, e.g. ADMIN_IDS=1,2,3
    admin_ids: Annotated[list[int], NoDecode] = []
    # How long a Mini App launch (initData auth_date) stays valid.
    init_data_max_age_s: int = 24 * 3600
    # Check Telegram's Ed25519 third-party `signature` instead of the bot-token HMAC.
    telegram_third_party: bool = False
    telegram_test_env: bool = False
    # Where the page loads telegram-web-app.js from; default: Telegram in prod, the copy
    # from the npm package @twa-dev/sdk (fetched by `make install`) in dev and tests.
    telegram_script_url: str | None = None
    # Public https address of the app (what BotFather's Mini App URL points to). The
    # frontend is built to reach the backend there; default http://localhost:PORT.
    public_url: str | None = None
    # Where the generated dev bot token is kept (shared by workers and restarts).
    dev_token_file: Path = PROJECT_ROOT / "data" / "dev-bot-token"
    # Worker processes per instance, with Redis (without it, one: tab state is in memory).
    # One per core: Reflex's own default, 2 x cores + 1, made every event slower on 2 cores
    # (bench/load.py: tick 6.0 ms and 300 members at p95 44 ms with 2 workers, 644 ms
    # with 5) and took 2.4x the memory.
    workers: int = max(1, os.cpu_count() or 1)
    # Tab states one process holds locked at once (state/lock_slots.py); 0: no bound.
    # Enough to keep a core busy while events wait on Redis and the database, few enough
    # that their CPU fits well inside the 5-s state lock when hundreds arrive together.
    state_lock_slots: int = 16
    # Open sockets per client address in each worker (state/connections.py); 0: no bound.
    # Generous: members behind one carrier NAT share an address.
    connections_per_address: int = 200
    # Bearer token for GET /metrics; without one the route is open in dev and off in prod.
    metrics_token: str | None = None
    # Per-member rate limits (app/cache/rate_limits.py), in the `limits` library's notation:
    # writes (transfers, purchases, claims, on screens and REST), /cache calls, /me. Empty:
    # no limit of that kind.
    rate_writes: str = "5/second;60/minute"
    rate_cache: str = "30/second;600/minute"
    rate_me: str = "10/second;120/minute"
    # The largest request body the REST API reads (app/api/limits.py): 413 beyond it.
    max_body_bytes: int = 64 * 1024

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(" ", "").split(",") if part]
        return value

    @field_validator(
        "redis_url",
        "state_redis_url",
        "bot_token",
        "telegram_script_url",
        "public_url",
        "metrics_token",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _prod_needs_a_bot(self) -> Settings:
        if self.app_env == "prod" and not self.bot_token:
            raise ValueError("APP_ENV=prod needs BOT_TOKEN: the app refuses to start without it")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_dev(self) -> bool:
        return self.app_env == "dev"

    @property
    def dev_launch(self) -> bool:
        """/dev/launch signs as any member: only with the generated dev token, never with a
        real bot's token (that would let anyone act as any real Telegram user)."""
        return self.is_dev and not self.bot_token

    @property
    def script_url(self) -> str:
        if self.telegram_script_url:
            return self.telegram_script_url
        if self.is_dev:
            return "/external/telegram-web-app.js"
        return "https://telegram.org/js/telegram-web-app.js"


# Every variable the settings read; tests clear them all for a known environment.
ENV_NAMES = tuple(name.upper() for name in Settings.model_fields)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
