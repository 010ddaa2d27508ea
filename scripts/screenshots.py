"""Take the README's screenshots: every screen, light and dark, inside an emulated Telegram.

    .venv/bin/python scripts/screenshots.py                 # all screens -> docs/screens/
    .venv/bin/python scripts/screenshots.py --screens home,item --themes dark

The app is started the way the e2e tests start it (miniapp_testing.server.AppServer: the
production build, a seeded SQLite database of its own, the kit's bot token), and each
screen is opened as a demo member inside the kit's TelegramHost with Telegram's light or
dark theme parameters (app.telegram.launch.THEMES), in headless Debian Chromium at
390x844. Each picture is taken once the screen's data and images are there (conditions,
not sleeps), and written to docs/screens/<screen>-<light|dark>.png.

Inside Telegram a screen's main action (Buy, Send) is Telegram's MainButton, which the
client draws below the Mini App, not the page: for those screens the page is taken 58 px
shorter (the client told it so, as a real one does) and the button the page set up (its
text and colours, as the emulated client recorded them) is drawn under it, in the bottom
bar telegram-web-app.js itself draws in its debug mode. Telegram's BackButton, in the
client's header, is not drawn.

The first run builds the frontend (about a minute); it uses the checkout's .web, as the e2e
tests do, unless --web-dir names another folder. Emoji (feed notes, the market's pictures)
need a colour emoji font in the system (Debian: fonts-noto-color-emoji); without one they
come out as empty boxes.
"""

from __future__ import annotations

import argparse
import base64
import html
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import BrowserContext, ViewportSize, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
# Run as a file (python scripts/screenshots.py), the project folder is not on the path.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.domain.db import Database  # noqa: E402
from app.domain.users import find_by_username  # noqa: E402
from app.telegram.launch import THEMES  # noqa: E402
from miniapp_testing.host import Launch, TelegramHost  # noqa: E402
from miniapp_testing.plugin import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from miniapp_testing.project import Project  # noqa: E402
from miniapp_testing.server import AppDidNotStart, AppServer  # noqa: E402

OUT = ROOT / "docs" / "screens"
# The kit's phone (miniapp_testing.plugin.PHONE), at scale 1: a 390x844 PNG is enough for the
# README and keeps the committed files small.
PHONE = ViewportSize(width=390, height=844)
TIMEOUT_MS = 30_000
# No safe-area insets: a client showing the Mini App below its own header (not full
# screen), so the pictures have no empty band where Telegram would draw its controls.
NO_INSETS = {"top": 0, "bottom": 0, "left": 0, "right": 0}
# The client's bottom bar under the webview while a MainButton shows (7 px padding around a
# 44-px button: telegram-web-app.js's debug bar).
BOTTOM_BAR_PX = 58


@dataclass(frozen=True)
class Screen:
    name: str
    path: str
    # What shows that the screen has its data: every selector must match a visible element.
    ready: tuple[str, ...]
    # The text of the MainButton the screen sets up inside Telegram ("": none).
    main_button: str = ""


SCREENS = (
    Screen("home", "/", ("#member-name", "#claim", "#latest .feed-row", ".banner-image")),
    Screen("feed", "/feed", ("#member-name", "#feed-list .feed-row")),
    Screen("leaderboard", "/leaderboard", ("#leaders .leader-row",)),
    Screen("market", "/market", ("#items .item-card",)),
    # Inside Telegram, Buy and Send are Telegram's MainButton (drawn by the client, not by
    # the page): the page's own twin is hidden, so these wait for the item and the form,
    # and for the MainButton's setup.
    Screen("item", "/market/2", ("#member-name", "#item-title", ".item-hero"), "Buy"),
    Screen("profile", "/profile", ("#member-name", "#history .feed-row")),
    Screen("send", "/profile/send", ("#member-name", "#send-to"), "Send"),
)

# Every image in the viewport has arrived and decoded, web fonts are in, and no skeleton
# is left: then the picture is what a member sees once the screen has settled.
SETTLED = """() => {
  const inView = (el) => el.getBoundingClientRect().top < window.innerHeight;
  const images = [...document.images].filter(inView);
  return document.fonts.status === 'loaded'
    && images.every((img) => img.complete && img.naturalWidth > 0)
    && document.querySelectorAll('.rt-Skeleton').length === 0;
}"""


def demo_member(server: AppServer, username: str) -> dict[str, Any]:
    """Telegram's user object for a seeded member, as a client sends it."""
    db = Database(server.database_url)
    try:
        found = find_by_username(db, username)
    finally:
        db.dispose()
    if found is None:
        raise SystemExit(f"@{username} is not a seeded member (try alice, bob, carol, ...)")
    first, _, last = found.name.partition(" ")
    user: dict[str, Any] = {"id": found.id, "first_name": first, "username": found.username}
    if last:
        user["last_name"] = last
    return user


def forget_last_screen(host: TelegramHost) -> None:
    """A new session opened at / goes back to the member's last screen (state/session.py),
    which would be the previous theme's last picture: clear it through the member's own
    /cache store, with the launch's initData, as the page itself would."""
    response = httpx.delete(
        f"{host.app_url}/cache/app_screen",
        headers={"Authorization": f"tma {host.init_data()}"},
        timeout=10,
    )
    response.raise_for_status()


def take(host: TelegramHost, screen: Screen, path: Path) -> None:
    """Open the screen with a fresh launch, wait until it has settled, take the viewport
    (with the client's MainButton under it when the screen shows one)."""
    page = host.page
    page.set_viewport_size(PHONE)
    host.open(screen.path, wait_for=None)
    for selector in screen.ready:
        page.locator(selector).first.wait_for(state="visible", timeout=TIMEOUT_MS)
    host.wait_until(SETTLED, timeout_ms=TIMEOUT_MS)
    if not screen.main_button:
        page.screenshot(path=str(path), animations="disabled", caret="hide")
        return
    button = host.wait_for_main_button(
        timeout_ms=TIMEOUT_MS, text=screen.main_button, is_visible=True
    )
    # The client makes room for its MainButton: the webview gets shorter, and says so.
    height = PHONE["height"] - BOTTOM_BAR_PX
    page.set_viewport_size(ViewportSize(width=PHONE["width"], height=height))
    host.set_viewport(height)
    host.wait_until("(h) => window.innerHeight === h", arg=height, timeout_ms=TIMEOUT_MS)
    host.wait_until(SETTLED, timeout_ms=TIMEOUT_MS)
    webview = page.screenshot(animations="disabled", caret="hide")
    with_main_button(page.context, webview, button, host.launch.theme, path)


def with_main_button(
    context: BrowserContext,
    webview: bytes,
    button: dict[str, Any],
    theme: Mapping[str, str],
    path: Path,
) -> None:
    """The webview's picture above the client's bottom bar with its MainButton, put
    together on a blank page of the same browser (no image library needed). Sizes, font
    and colours are those of telegram-web-app.js's own debug bottom bar."""
    bar = theme.get("bottom_bar_bg_color") or theme.get("secondary_bg_color") or "#ffffff"
    image = base64.b64encode(webview).decode()
    opacity = "1" if button.get("is_active", True) else "0.8"
    markup = f"""<!doctype html>
<html><head><meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="margin:0">
<img src="data:image/png;base64,{image}" style="display:block">
<div style="height:{BOTTOM_BAR_PX}px;box-sizing:border-box;padding:7px;background:{bar};
            font:600 14px/18px sans-serif">
  <div style="height:44px;box-sizing:border-box;padding:13px 15px;text-align:center;
              background:{button.get("color", "#2481cc")};
              color:{button.get("text_color", "#ffffff")};opacity:{opacity}"
  >{html.escape(str(button.get("text", "")))}</div>
</div></body></html>"""
    sheet = context.new_page()
    try:
        sheet.set_viewport_size(PHONE)
        sheet.set_content(markup)
        sheet.wait_for_function("() => document.images[0].complete", timeout=TIMEOUT_MS)
        sheet.screenshot(path=str(path))
    finally:
        sheet.close()


@contextmanager
def running_app(workdir: Path, web_dir: Path | None) -> Iterator[AppServer]:
    extra = {"REFLEX_WEB_WORKDIR": str(web_dir)} if web_dir is not None else {}
    # This checkout, wherever the script is started from (Project() would look from the
    # working directory).
    server = AppServer(workdir, extra_env=extra, project=Project(root=ROOT))
    server.seed()
    print(f"screenshots: starting the app on {server.url} (log: {server.log}) ...", flush=True)
    try:
        server.start()
    except AppDidNotStart as exc:
        raise SystemExit(f"screenshots: {exc}") from None
    try:
        yield server
    finally:
        server.stop()


def shoot(
    server: AppServer,
    screens: Sequence[Screen],
    themes: Sequence[str],
    username: str,
    out: Path,
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    user = demo_member(server, username)
    written: list[Path] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for theme in themes:
                # One phone per theme.
                context = browser.new_context(
                    viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True
                )
                launch = Launch(
                    user=user,
                    platform="ios",
                    theme=dict(THEMES[theme]),
                    viewport_height=PHONE["height"],
                    safe_area=NO_INSETS,
                    content_safe_area=NO_INSETS,
                )
                host = TelegramHost(
                    context.new_page(), server.url, server.bot_token, launch, server.project
                )
                forget_last_screen(host)
                for screen in screens:
                    path = out / f"{screen.name}-{theme}.png"
                    try:
                        take(host, screen, path)
                    except PlaywrightTimeout as exc:
                        # A busy machine (two cores, a test suite beside us) can hold a
                        # first load past the timeout: say so, and open the screen once more.
                        first_line = str(exc).splitlines()[0]
                        print(f"  {screen.name}-{theme}: {first_line}; again", flush=True)
                        take(host, screen, path)
                    written.append(path)
                    print(f"  {path}", flush=True)
                context.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    names = [s.name for s in SCREENS]
    parser = argparse.ArgumentParser(
        description="Every screen, light and dark, inside an emulated Telegram -> PNGs."
    )
    parser.add_argument("--screens", default=",".join(names), help=f"of {', '.join(names)}")
    parser.add_argument("--themes", default="light,dark", help="light, dark or both")
    parser.add_argument("--user", default="alice", help="the demo member (seeded username)")
    parser.add_argument("--out", type=Path, default=OUT, help="where the PNGs go")
    parser.add_argument(
        "--workdir", type=Path, help="the app's database and logs (default: a temporary folder)"
    )
    parser.add_argument("--web-dir", type=Path, help="build the frontend here, not in .web")
    args = parser.parse_args(argv)
    wanted = [n.strip() for n in args.screens.split(",") if n.strip()]
    unknown = sorted(set(wanted) - set(names))
    themes = [t.strip() for t in args.themes.split(",") if t.strip()]
    if unknown or not wanted:
        parser.error(f"unknown screens {unknown}; choose from {names}")
    if not themes or not set(themes) <= set(THEMES):
        parser.error(f"themes are {sorted(THEMES)}")
    if not Path(CHROMIUM).exists():
        parser.error(f"no Chromium at {CHROMIUM}: run `make chromium` or set CHROMIUM_PATH")
    screens = [s for s in SCREENS if s.name in wanted]

    with tempfile.TemporaryDirectory(prefix="screenshots-") as scratch:
        workdir = args.workdir or Path(scratch)
        with running_app(workdir, args.web_dir) as server:
            written = shoot(server, screens, themes, args.user, args.out)
    print(f"screenshots: {len(written)} written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
