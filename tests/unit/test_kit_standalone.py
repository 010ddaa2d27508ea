"""The e2e kit stands alone: it imports nothing of this app, and its own copy of Telegram's
signing and launch parameters (miniapp_testing/telegram.py) agrees with the app's
(app/telegram/, which the dev launch uses and which may not import the kit)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from app.telegram import launch as app_launch
from app.telegram import signing as app_signing
from app.telegram.init_data import validate_init_data
from miniapp_testing import telegram as kit

ROOT = Path(__file__).resolve().parents[2]
KIT_MODULES = sorted(
    f"miniapp_testing.{path.stem}"
    for path in (ROOT / "miniapp_testing").glob("*.py")
    if path.stem != "__init__"
)
TOKEN = "123456:kit-agreement-token"
USER = {"id": 7_000_000_042, "first_name": "Zoë & Co", "username": "zoe"}


def test_the_kit_imports_nothing_of_the_app(tmp_path: Path) -> None:
    code = (
        f"import sys, {', '.join(KIT_MODULES)}\n"
        "app = {'app', 'state', 'components', 'rxconfig', 'tests', 'bench'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in app))\n"
    )
    # Outside the project folder, so only the installed (or PYTHONPATH) kit is found.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("extra", [None, {"chat_type": "sender"}])
def test_the_kit_signs_as_the_app_does(extra: dict[str, str] | None) -> None:
    signed = kit.sign_init_data(USER, TOKEN, auth_date=1_700_000_000, extra=extra)
    assert signed == app_signing.sign_init_data(USER, TOKEN, auth_date=1_700_000_000, extra=extra)


def test_the_app_accepts_what_the_kit_signs() -> None:
    launch = validate_init_data(kit.sign_init_data(USER, TOKEN), TOKEN)
    assert launch.user.id == USER["id"]


def test_the_kit_launches_with_the_apps_themes_and_hash() -> None:
    assert kit.THEMES == app_launch.THEMES
    assert kit.LIGHT_THEME == app_launch.LIGHT_THEME
    assert kit.DARK_THEME == app_launch.DARK_THEME
    raw = kit.sign_init_data(USER, TOKEN)
    for options in ({}, {"version": "7.10", "platform": "ios", "theme": kit.DARK_THEME}):
        assert kit.launch_hash(raw, **options) == app_launch.launch_hash(raw, **options)
    params = dict(parse_qsl(kit.launch_hash(raw)))
    assert json.loads(params["tgWebAppThemeParams"]) == kit.LIGHT_THEME
