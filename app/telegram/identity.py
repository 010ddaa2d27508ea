"""Who is calling: initData checked against this deployment's bot and settings."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

from app.settings import PROJECT_ROOT, get_settings
from app.telegram.init_data import InitData, validate_init_data

DEV_TOKEN_FILE = PROJECT_ROOT / "data" / "dev-bot-token"


def dev_bot_token(path: Path = DEV_TOKEN_FILE) -> str:
    """A generated token, kept on disk so every worker process and restart shares it."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    token = f"{secrets.randbelow(9 * 10**9) + 10**9}:DEV{secrets.token_urlsafe(30)}"
    # Write a private temp file, then publish it with link(): the token file appears
    # complete or not at all, so a concurrent reader never sees it empty.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as out:
            out.write(token)
        os.link(tmp, path)
    except FileExistsError:  # another worker published its token first
        return path.read_text().strip()
    finally:
        tmp.unlink(missing_ok=True)
    return token


def bot_token() -> str:
    settings = get_settings()
    if settings.bot_token:
        return settings.bot_token
    if settings.is_dev:
        return dev_bot_token(settings.dev_token_file)
    raise RuntimeError("BOT_TOKEN is not set")


def authenticate(raw: object) -> InitData:
    """Validate initData for this app; raises InitDataError with the reason."""
    settings = get_settings()
    return validate_init_data(
        raw,
        bot_token(),
        max_age=timedelta(seconds=settings.init_data_max_age_s),
        third_party=settings.telegram_third_party,
        test_env=settings.telegram_test_env,
    )


def is_admin(user_id: int) -> bool:
    return user_id in get_settings().admin_ids
