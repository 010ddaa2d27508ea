"""Another commit beside this checkout, for the benches' side-by-side runs (--against)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Fetched by `make install`, not in git: the worktree gets this checkout's copy.
FETCHED = (Path("assets/external/telegram-web-app.js"),)


def checkout_of(ref: str, parent: Path) -> Path:
    """A git worktree of `ref` under `parent`, with what `make install` fetched beside it."""
    path = parent / "against"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(path), ref],
        check=True,
        capture_output=True,
    )
    for fetched in FETCHED:
        if (ROOT / fetched).exists():
            (path / fetched).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / fetched, path / fetched)
    return path
