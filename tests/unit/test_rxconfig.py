"""rxconfig.py from the settings: where Reflex keeps tab states, which origins may call."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOW = (
    "import json, rxconfig; c = rxconfig.config; "
    "print(json.dumps({'redis': c.redis_url, 'origins': list(c.cors_allowed_origins)}))"
)


def _config(**env: str) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if not k.endswith("REDIS_URL")}
    clean.pop("PUBLIC_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", SHOW],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_tab_states_can_have_a_redis_of_their_own() -> None:
    shared = _config(REDIS_URL="redis://127.0.0.1:6379/3")
    assert shared["redis"] == "redis://127.0.0.1:6379/3"
    apart = _config(
        REDIS_URL="redis://127.0.0.1:6379/3", STATE_REDIS_URL="redis://127.0.0.1:6380/0"
    )
    assert apart["redis"] == "redis://127.0.0.1:6380/0"


def test_only_the_apps_own_origin_is_allowed() -> None:
    assert _config(PUBLIC_URL="https://app.example.org/")["origins"] == ["https://app.example.org"]
    dev = _config(PORT="3000")["origins"]
    assert dev == ["http://localhost:3000", "http://127.0.0.1:3000"]
