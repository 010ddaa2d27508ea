"""The identity layer around validation: dev token, settings-driven authenticate, admins,
the prod guard in Settings, and the launch parameters built for the dev launch."""

from __future__ import annotations

import json
import os
import re
import stat
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from pydantic import ValidationError

from app.settings import Settings
from app.telegram import identity
from app.telegram.identity import authenticate, bot_token, dev_bot_token, is_admin
from app.telegram.init_data import InitDataError, bot_id_from_token, validate_init_data
from app.telegram.launch import DARK_THEME, LIGHT_THEME, THEMES, launch_hash
from app.telegram.signing import sign_init_data
from tests.support.settings import Configure

TOKEN = "1234567890:AAF-identity-test-token"
# ---------------------------------------------------------------------------------------
# dev_bot_token
# ---------------------------------------------------------------------------------------


def test_dev_token_is_created_once_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "dev-bot-token"
    first = dev_bot_token(path)
    assert path.read_text() == first
    assert dev_bot_token(path) == first
    assert dev_bot_token(path) == first
    assert re.fullmatch(r"\d{10}:DEV[A-Za-z0-9_-]{30,}", first)
    assert bot_id_from_token(first) == int(first.partition(":")[0])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(path.parent) == ["dev-bot-token"]  # no temp files left behind


def test_dev_tokens_differ_between_paths(tmp_path: Path) -> None:
    assert dev_bot_token(tmp_path / "a") != dev_bot_token(tmp_path / "b")


def test_dev_token_file_written_by_hand_is_used(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("42:handmade\n")
    assert dev_bot_token(path) == "42:handmade"


def test_dev_token_is_the_same_for_concurrent_first_callers(tmp_path: Path) -> None:
    # Several workers start at once: all must agree, and none may read a half-written file.
    for round_ in range(20):
        path = tmp_path / str(round_) / "dev-bot-token"
        barrier = threading.Barrier(8)
        seen: list[str] = []

        def first_call(
            path: Path = path, barrier: threading.Barrier = barrier, seen: list[str] = seen
        ) -> None:
            barrier.wait()
            seen.append(dev_bot_token(path))

        threads = [threading.Thread(target=first_call) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(seen) == 8
        assert len(set(seen)) == 1, seen
        assert seen[0] and seen[0] == path.read_text()


def test_dev_token_signs_and_validates(tmp_path: Path) -> None:
    token = dev_bot_token(tmp_path / "t")
    raw = sign_init_data({"id": 5, "first_name": "Dev"}, token)
    assert validate_init_data(raw, token).user.id == 5


# ---------------------------------------------------------------------------------------
# bot_token / authenticate driven by settings
# ---------------------------------------------------------------------------------------


def test_bot_token_prefers_the_configured_token(configure: Configure) -> None:
    configure(app_env="dev", bot_token=TOKEN)
    assert bot_token() == TOKEN
    configure(app_env="prod", bot_token=TOKEN)
    assert bot_token() == TOKEN


def test_bot_token_in_dev_without_token_uses_the_dev_token_file(
    configure: Configure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "dev-bot-token"
    configure(app_env="dev", bot_token="", dev_token_file=str(path))
    token = bot_token()
    assert path.read_text() == token
    assert bot_token() == token
    raw = sign_init_data({"id": 77, "first_name": "Dev"}, token)
    assert authenticate(raw).user.id == 77


def test_authenticate_uses_the_configured_token(configure: Configure) -> None:
    configure(app_env="dev", bot_token=TOKEN)
    raw = sign_init_data({"id": 11, "first_name": "A"}, TOKEN)
    assert authenticate(raw).user.id == 11
    with pytest.raises(InitDataError) as info:
        authenticate(sign_init_data({"id": 11}, TOKEN + "x"))
    assert info.value.reason == "bad_hash"
    with pytest.raises(InitDataError) as info:
        authenticate(None)
    assert info.value.reason == "missing"


def test_authenticate_uses_the_configured_max_age(configure: Configure) -> None:
    settings = configure(app_env="dev", bot_token=TOKEN, init_data_max_age_s="60")
    assert settings.init_data_max_age_s == 60
    fresh = sign_init_data({"id": 1}, TOKEN, auth_date=int(time.time()) - 10)
    stale = sign_init_data({"id": 1}, TOKEN, auth_date=int(time.time()) - 120)
    assert authenticate(fresh).user.id == 1
    with pytest.raises(InitDataError) as info:
        authenticate(stale)
    assert info.value.reason == "expired"


def test_default_max_age_setting_is_one_day(configure: Configure) -> None:
    assert timedelta(seconds=configure(bot_token=TOKEN).init_data_max_age_s) == timedelta(days=1)


def test_authenticate_third_party_setting(configure: Configure) -> None:
    configure(app_env="dev", bot_token=TOKEN, telegram_third_party="true")
    with pytest.raises(InitDataError) as info:
        authenticate(sign_init_data({"id": 1}, TOKEN))  # HMAC only, no Ed25519 signature
    assert info.value.reason == "missing_signature"


# ---------------------------------------------------------------------------------------
# Admins
# ---------------------------------------------------------------------------------------


def test_is_admin_respects_admin_ids(configure: Configure) -> None:
    settings = configure(bot_token=TOKEN, admin_ids="1, 2,3")
    assert settings.admin_ids == [1, 2, 3]
    assert [is_admin(i) for i in (1, 2, 3)] == [True, True, True]
    assert [is_admin(i) for i in (0, 4, 12, 123, -1)] == [False] * 5


def test_nobody_is_admin_by_default(configure: Configure) -> None:
    configure(bot_token=TOKEN)
    assert not is_admin(1)
    configure(bot_token=TOKEN, admin_ids="")
    assert not is_admin(1)


def test_admin_ids_with_big_telegram_ids(configure: Configure) -> None:
    configure(bot_token=TOKEN, admin_ids=" 7000000001 ,5,")
    assert is_admin(7_000_000_001)
    assert is_admin(5)
    assert not is_admin(7_000_000_002)


def test_admin_ids_garbage_is_a_settings_error(configure: Configure) -> None:
    with pytest.raises(ValidationError):
        configure(bot_token=TOKEN, admin_ids="1,two")


# ---------------------------------------------------------------------------------------
# Prod guard
# ---------------------------------------------------------------------------------------


def test_prod_without_bot_token_refuses_to_start(configure: Configure) -> None:
    with pytest.raises(ValidationError, match="BOT_TOKEN"):
        Settings(app_env="prod")
    with pytest.raises(ValidationError, match="BOT_TOKEN"):
        Settings(app_env="prod", bot_token="")
    assert Settings(app_env="prod", bot_token=TOKEN).bot_token == TOKEN
    assert Settings(app_env="dev").bot_token is None


def test_prod_without_bot_token_from_the_environment(configure: Configure) -> None:
    with pytest.raises(ValidationError, match="BOT_TOKEN"):
        configure(app_env="prod")
    with pytest.raises(ValidationError, match="BOT_TOKEN"):
        configure(app_env="prod", bot_token="")


def test_prod_never_falls_back_to_a_dev_token(
    configure: Configure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = configure(app_env="prod", bot_token=TOKEN)
    assert not settings.is_dev
    path = tmp_path / "dev-bot-token"
    monkeypatch.setattr(dev_bot_token, "__defaults__", (path,))
    assert identity.bot_token() == TOKEN
    assert not path.exists()


# ---------------------------------------------------------------------------------------
# Launch parameters (the URL hash a Telegram client passes to the page)
# ---------------------------------------------------------------------------------------


def test_launch_hash_carries_init_data_and_launch_params() -> None:
    raw = sign_init_data({"id": 5, "first_name": "Zoë & Co"}, TOKEN)
    fragment = launch_hash(raw, version="7.10", platform="android", theme=DARK_THEME)
    params = dict(parse_qsl(fragment, strict_parsing=True))
    assert set(params) == {
        "tgWebAppData",
        "tgWebAppVersion",
        "tgWebAppPlatform",
        "tgWebAppThemeParams",
    }
    assert params["tgWebAppData"] == raw
    assert validate_init_data(params["tgWebAppData"], TOKEN).user.first_name == "Zoë & Co"
    assert params["tgWebAppVersion"] == "7.10"
    assert params["tgWebAppPlatform"] == "android"
    assert json.loads(params["tgWebAppThemeParams"]) == DARK_THEME


def test_launch_hash_defaults() -> None:
    params = dict(parse_qsl(launch_hash("auth_date=1&hash=x")))
    assert params["tgWebAppVersion"] == "8.0"
    assert params["tgWebAppPlatform"] == "tdesktop"
    assert json.loads(params["tgWebAppThemeParams"]) == LIGHT_THEME
    assert set(THEMES) == {"light", "dark"}
    for theme in THEMES.values():
        assert all(re.fullmatch(r"#[0-9a-f]{6}", color) for color in theme.values())
