"""Start the app as `make run` does (prod build, one port, seeded SQLite) and a browser."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
BUILD_TIMEOUT_S = 600
PHONE = {"width": 390, "height": 844}
# The app under test validates initData against this token, so tests can sign as Telegram.
BOT_TOKEN = "7000000001:E2E-test-token-not-a-real-bot"
DEV_TOKEN_FILE = Path(tempfile.gettempdir()) / f"miniapp-e2e-dev-token-{os.getpid()}"
DEV_TOKEN_FILE.write_text(BOT_TOKEN)


def missing(what: str) -> None:
    """Skip on a laptop without the tool; fail under CI, where it must be there."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (required under CI=true)")
    pytest.skip(what)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class RunningApp:
    url: str
    database_url: str
    log: Path
    bot_token: str = BOT_TOKEN

    def launch_url(self, user: str = "alice", **params: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"user": user, **params}.items())
        return f"{self.url}/dev/launch?{query}"


def _app_env(port: int, database_url: str, states_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    venv_bin = str(Path(sys.executable).parent)
    env.update(
        PATH=f"{venv_bin}:{env.get('PATH', '')}",
        REFLEX_USE_NPM="1",
        PORT=str(port),
        DATABASE_URL=database_url,
        REDIS_URL="",
        APP_ENV="dev",
        # The dev launch exists only with the generated dev token (never with a real bot's),
        # so the tests hand the app a known one through its token file.
        BOT_TOKEN="",
        DEV_TOKEN_FILE=str(DEV_TOKEN_FILE),
        PYTHONUNBUFFERED="1",
        # Reflex empties its states folder at start; each app process gets its own, so
        # one starting cannot delete (or race on) another's files.
        REFLEX_STATES_WORKDIR=str(states_dir),
    )
    return env


@pytest.fixture(scope="session")
def app_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The app exactly as `make run` serves it: migrated, seeded, production build."""
    reflex = Path(sys.executable).parent / "reflex"
    if not reflex.exists():
        missing("reflex is not installed in this virtualenv")
    workdir = tmp_path_factory.mktemp("app")
    database_url = f"sqlite:///{workdir / 'app.db'}"
    port = free_port()
    env = _app_env(port, database_url, workdir / "states")
    subprocess.run(
        [sys.executable, "-m", "app.domain.seed", "--if-empty", "--quiet"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    log = workdir / "reflex.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(reflex),
                "run",
                "--env",
                "prod",
                "--single-port",
                *("--frontend-port", str(port)),
                *("--backend-port", str(port)),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + BUILD_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the app exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{url}/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the app did not serve / in {BUILD_TIMEOUT_S} s:\n{log.read_text()[-4000:]}"
                )
            time.sleep(1)
        yield RunningApp(url=url, database_url=database_url, log=log)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        missing(f"Chromium not found at {CHROMIUM}; run `make chromium` or set CHROMIUM_PATH")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@pytest.fixture
def phone_page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True)  # type: ignore[attr-defined]
    page = context.new_page()
    yield page
    context.close()
