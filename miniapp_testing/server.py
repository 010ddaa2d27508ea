"""Run a Reflex app as `make run` serves it (production build, one port) for tests and benches.

`AppServer` owns one `reflex run --env prod --single-port` process group: it can be killed
with SIGKILL (as a crashed or evicted backend would be) and started again on the same port
and database, which is what resume after a backend restart is tested against. What is
particular to the project (its seed command, environment, routes) comes from its `Project`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx

from miniapp_testing.ports import free_port, wait_port_free
from miniapp_testing.project import Project

BUILD_TIMEOUT_S = 600
# The app under test validates initData against this token, so tests can sign as Telegram.
TEST_BOT_TOKEN = "7000000001:E2E-test-token-not-a-real-bot"


class AppDidNotStart(RuntimeError):
    pass


@dataclass
class AppServer:
    """One app process on `port`, with a seeded SQLite database under `workdir`."""

    workdir: Path
    port: int = field(default_factory=free_port)
    database_url: str = ""
    redis_url: str = ""
    bot_token: str = TEST_BOT_TOKEN
    extra_env: dict[str, str] = field(default_factory=dict)
    backend_only: bool = False
    # What is run: this checkout, another one (bench/frontend.py --against REF), or another
    # Reflex project altogether.
    project: Project = field(default_factory=Project)
    _proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.database_url = self.database_url or f"sqlite:///{self.workdir / 'app.db'}"
        self.token_file.write_text(self.bot_token)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def token_file(self) -> Path:
        return self.workdir / "dev-bot-token"

    @property
    def log(self) -> Path:
        return self.workdir / "reflex.log"

    def launch_url(self, user: str = "", **params: str) -> str:
        """The dev launch: the server signs initData for a seeded member and redirects."""
        query = urlencode({"user": user or self.project.demo_user, **params})
        return f"{self.url}{self.project.dev_launch_path}?{query}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
            REFLEX_USE_NPM="1",
            PORT=str(self.port),
            PYTHONUNBUFFERED="1",
            # Reflex empties its states folder at start; each app process gets its own, so
            # one starting cannot delete (or race on) another's files.
            REFLEX_STATES_WORKDIR=str(self.workdir / "states"),
        )
        env[self.project.database_env] = self.database_url
        env[self.project.redis_env] = self.redis_url
        # This app's dev launch exists only with the generated dev token (never a real
        # bot's), so it gets a known one through its token file.
        env.update(self.project.identity_env(self.bot_token, self.token_file))
        env.update(self.extra_env)
        return env

    def seed(self) -> None:
        """The project's seed command (migrate and load demo data), if it has one."""
        if not self.project.seed:
            return
        subprocess.run(
            [sys.executable, *self.project.seed],
            cwd=self.project.root,
            env=self.env(),
            check=True,
        )

    def command(self) -> list[str]:
        """The app process's command line (`make run`'s, or the backend alone)."""
        reflex = Path(sys.executable).parent / "reflex"
        args = [str(reflex), "run", "--env", "prod"]
        args += ["--backend-only"] if self.backend_only else ["--single-port"]
        if not self.backend_only:
            args += ["--frontend-port", str(self.port)]
        args += ["--backend-port", str(self.port)]
        return args

    def start(self, timeout_s: float = BUILD_TIMEOUT_S) -> AppServer:
        args = self.command()
        with self.log.open("ab") as out:
            out.write(f"\n--- start {self.starts + 1}: {' '.join(args)}\n".encode())
            out.flush()
            self._proc = subprocess.Popen(
                args,
                cwd=self.project.root,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        self.wait_ready(timeout_s)
        return self

    def wait_ready(self, timeout_s: float = BUILD_TIMEOUT_S) -> None:
        probe = self.project.health_path if self.backend_only else "/"
        deadline = time.monotonic() + timeout_s
        while True:
            if self._proc is not None and self._proc.poll() is not None:
                raise AppDidNotStart(f"the app exited with {self._proc.returncode}:\n{self.tail()}")
            try:
                if httpx.get(self.url + probe, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AppDidNotStart(
                    f"the app did not serve {probe} in {timeout_s} s:\n{self.tail()}"
                )
            time.sleep(0.2)

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown hooks, sockets drop mid-flight."""
        self._signal(signal.SIGKILL)

    def stop(self) -> None:
        self._signal(signal.SIGTERM, wait_s=20)

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """SIGKILLed for the body of the `with`, started again after it, whatever happens."""
        self.kill()
        try:
            yield
        finally:
            self.start()

    def restart(self, *, kill: bool = True) -> None:
        self.kill() if kill else self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _signal(self, sig: signal.Signals, wait_s: float = 10) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=wait_s)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=wait_s)
        # The port must be free before a restart binds it again.
        wait_port_free(self.port)
