"""pytest fixtures for end-to-end tests of the Mini App inside an emulated Telegram client.

Load it with `pytest_plugins = ["miniapp_testing.plugin"]` in a top-level conftest.py (this
project does) or `pytest -p miniapp_testing.plugin`. Fixtures:

- `miniapp_project` (session): the `Project` under test, this app's by default; another
  project overrides this fixture in its conftest.py (see README.md beside this file).
- `miniapp` (session): the app as `make run` serves it, seeded, on a free port
  (an `AppServer`: `.url`, `.kill()`, `.start()`, `.restart()`, `.database_url`).
- `chromium` (session): headless Debian Chromium through Playwright.
- `telegram`: a factory; `telegram(user)` opens a phone-sized page inside a `TelegramHost`
  (signed launch for any user, platform, Bot API version and theme).

    def test_buy_with_main_button(telegram):
        tg = telegram({"id": 42, "first_name": "Ann"}, version="8.0", platform="ios")
        tg.open("/market/1")
        tg.wait_for_main_button(text="Buy", is_visible=True)
        tg.press_main_button()
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from miniapp_testing.ci import missing
from miniapp_testing.host import Launch, TelegramHost
from miniapp_testing.project import Project, find_root
from miniapp_testing.server import AppDidNotStart, AppServer

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 390, "height": 844}

OpenTelegram = Callable[..., TelegramHost]


def start_app(server: AppServer) -> AppServer:
    reflex = Path(sys.executable).parent / "reflex"
    if not reflex.exists():
        missing("reflex is not installed in this virtualenv")
    server.seed()
    try:
        return server.start()
    except AppDidNotStart as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="session")
def miniapp_project(pytestconfig: pytest.Config) -> Project:
    """This app, found from pytest's rootdir; override for another project."""
    return Project(root=find_root(pytestconfig.rootpath))


@pytest.fixture(scope="session")
def miniapp(
    tmp_path_factory: pytest.TempPathFactory, miniapp_project: Project
) -> Iterator[AppServer]:
    """The app exactly as `make run` serves it: migrated, seeded, production build."""
    server = start_app(AppServer(tmp_path_factory.mktemp("miniapp"), project=miniapp_project))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        missing(f"Chromium not found at {CHROMIUM}; run `make chromium` or set CHROMIUM_PATH")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def phone_context(browser: Any, **options: Any) -> Any:
    return browser.new_context(
        viewport=options.pop("viewport", PHONE), device_scale_factor=2, is_mobile=True, **options
    )


@pytest.fixture
def telegram(miniapp: AppServer, chromium: Any) -> Iterator[OpenTelegram]:
    contexts: list[Any] = []

    def open_host(user: Mapping[str, Any], **launch: Any) -> TelegramHost:
        context = phone_context(chromium)
        contexts.append(context)
        return TelegramHost(
            context.new_page(),
            miniapp.url,
            miniapp.bot_token,
            Launch(user=user, **launch),
            project=miniapp.project,
        )

    yield open_host
    for context in contexts:
        context.close()
