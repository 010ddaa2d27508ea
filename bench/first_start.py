"""Time from a clean clone to the first page with data: what a newcomer waits for.

    .venv/bin/python -m bench.first_start [--keep-venv]

Clones this repository into a temp folder, runs `make run` there on a free port, and
measures: until /health answers, and until the dev launch link shows feed rows in headless
Chromium. Prints a table; the pip and npm caches of this machine make it faster than a
first-ever install.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from miniapp_testing.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def first_rows_visible(url: str) -> float:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        page = browser.new_page(viewport={"width": 390, "height": 844})
        started = time.perf_counter()
        page.goto(url)
        page.locator(".feed-row").first.wait_for(timeout=30_000)
        took = time.perf_counter() - started
        browser.close()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--timeout", type=float, default=1200)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
        env.update(PORT=str(port), DATABASE_URL="", REDIS_URL="", BOT_TOKEN="", APP_ENV="dev")
        env.pop("DATABASE_URL")
        log = Path(tmp) / "make-run.log"
        started = time.perf_counter()
        with log.open("wb") as out:
            proc = subprocess.Popen(
                ["make", "run", f"PORT={port}"],
                cwd=clone,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        url = f"http://localhost:{port}"
        try:
            while True:
                if proc.poll() is not None:
                    sys.exit(f"make run exited:\n{log.read_text()[-3000:]}")
                try:
                    if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.perf_counter() - started > args.timeout:
                    sys.exit(f"no /health after {args.timeout} s:\n{log.read_text()[-3000:]}")
                time.sleep(0.5)
            serving = time.perf_counter() - started
            page_load = first_rows_visible(f"{url}/dev/launch?user=alice")
            total = time.perf_counter() - started
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    rows = [
        ("clone -> make run serving /health", serving),
        ("dev launch link -> feed rows on screen", page_load),
        ("clone -> first page with data", total),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'step':<{width}}  seconds")
    for name, seconds in rows:
        print(f"{name:<{width}}  {seconds:7.1f}")


if __name__ == "__main__":
    main()
