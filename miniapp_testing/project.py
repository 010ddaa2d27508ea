"""What the kit needs to know of the Reflex project it runs, with this app's answers as the
defaults: another project passes a `Project` of its own (see README.md beside this file).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` (default: the working directory) that holds
    rxconfig.py, which is where Reflex runs a project from; `start` itself if none does."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "rxconfig.py").exists():
            return folder
    return here


def dev_token_file_env(bot_token: str, token_file: Path) -> dict[str, str]:
    """This app's way: in APP_ENV=dev with no BOT_TOKEN it reads its bot token from
    DEV_TOKEN_FILE (where the kit has written `bot_token`) and serves /dev/launch."""
    return {"APP_ENV": "dev", "BOT_TOKEN": "", "DEV_TOKEN_FILE": str(token_file)}


@dataclass(frozen=True)
class Project:
    """A Reflex project as the kit starts, opens and clusters it. Paths are relative to
    `root`; commands run there with the virtualenv's Python."""

    root: Path = field(default_factory=find_root)
    # Python's arguments that migrate and seed the database before the app starts; empty:
    # nothing to do. Run again at every start of a test session, so it must be idempotent.
    seed: tuple[str, ...] = ("-m", "app.domain.seed", "--if-empty", "--quiet")
    # The environment variables the app reads its database and Redis from.
    database_env: str = "DATABASE_URL"
    redis_env: str = "REDIS_URL"
    # The address browsers reach the app at, which the frontend build bakes in.
    public_url_env: str = "PUBLIC_URL"
    # The variables that give the app the bot token the kit signs initData with.
    identity_env: Callable[[str, Path], dict[str, str]] = dev_token_file_env
    # The SQLite file the app uses when `database_env` is unset (`make cluster` shares it).
    database_file: str = "data/app.db"
    # 200 from the backend alone once it serves.
    health_path: str = "/health"
    # GET ?user=NAME signs a launch for that member and redirects into the app (dev only).
    dev_launch_path: str = "/dev/launch"
    demo_user: str = "alice"
    # What TelegramHost.open() waits for: the first screen has loaded.
    ready_selector: str = "#member-name"
    # The official telegram-web-app.js, served to the page in place of telegram.org's.
    telegram_script: str = "assets/external/telegram-web-app.js"
    # A cluster instance: `python SCRIPT PORT`, the backend serving a build made beforehand.
    instance_script: str = "scripts/run_instance.py"
    # nginx's config with @PREFIX@, @LISTEN@, @WORKERS@, @UPSTREAMS@ and @DEBUG@ to fill in.
    nginx_template: str = "deploy/nginx.conf.template"
    # Prints nginx's path (installing it when it can); missing: nginx is looked up on PATH.
    ensure_nginx: str = "scripts/ensure-nginx.sh"

    def path(self, relative: str) -> Path:
        return self.root / relative

    def identity_names(self) -> tuple[str, ...]:
        return tuple(self.identity_env("", self.root))
