"""An emulated Telegram client around a Playwright page.

The page loads the official telegram-web-app.js (served from a local copy, whatever address
the app asks for it at) and believes it runs inside Telegram: launch parameters arrive in
the URL hash, signed with the bot token like Telegram signs them; the script's calls to the
client are recorded; its requests for theme, viewport and safe areas are answered; and the
test plays the client's part: minimize, restore, change theme or viewport, press the
BackButton or the MainButton. Where the official script is and what `open()` waits for
come from the project (`Project.telegram_script`, `Project.ready_selector`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any

from miniapp_testing.project import Project
from miniapp_testing.telegram import DARK_THEME, LIGHT_THEME, THEMES, launch_hash, sign_init_data

HOST_JS = (files("miniapp_testing") / "host.js").read_text()
TELEGRAM_SCRIPT_URLS = ("https://telegram.org/js/telegram-web-app.js*", "**/telegram-web-app.js*")
MOBILE = ("android", "ios")

__all__ = ["DARK_THEME", "LIGHT_THEME", "Launch", "TelegramHost"]


def version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


@dataclass
class Launch:
    """What a Telegram client passes to a Mini App when it opens it."""

    user: Mapping[str, Any]
    version: str = "8.0"
    platform: str = "android"
    theme: Mapping[str, str] = field(default_factory=lambda: dict(LIGHT_THEME))
    viewport_height: int = 844
    safe_area: Mapping[str, int] = field(
        default_factory=lambda: {"top": 24, "bottom": 16, "left": 0, "right": 0}
    )
    content_safe_area: Mapping[str, int] = field(
        default_factory=lambda: {"top": 48, "bottom": 0, "left": 0, "right": 0}
    )
    auth_date: int | None = None

    def host_config(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "platform": self.platform,
            "theme": dict(self.theme),
            "viewport": {"height": self.viewport_height, "is_expanded": False},
            "safe_area": dict(self.safe_area),
            "content_safe_area": dict(self.content_safe_area),
        }


class TelegramHost:
    """Plays the Telegram client for one page (`page` is a Playwright sync Page)."""

    def __init__(
        self,
        page: Any,
        app_url: str,
        bot_token: str,
        launch: Launch,
        project: Project | None = None,
    ) -> None:
        self.page = page
        self.app_url = app_url.rstrip("/")
        self.bot_token = bot_token
        self.launch = launch
        self.project = project or Project()
        self.official_script = self.project.path(self.project.telegram_script)
        self.script_missing = False
        config = json.dumps(launch.host_config())
        page.add_init_script(HOST_JS.replace("__TG_HOST_CONFIG__", config))
        for pattern in TELEGRAM_SCRIPT_URLS:
            page.route(pattern, self._serve_official_script)

    # -- opening -------------------------------------------------------------------------

    @property
    def supports_activation(self) -> bool:
        """Bot API 8.0 brought `activated` / `deactivated` (the `visibility_changed` event)."""
        return version_tuple(self.launch.version) >= (8, 0)

    def init_data(self) -> str:
        return sign_init_data(self.launch.user, self.bot_token, auth_date=self.launch.auth_date)

    def url(self, path: str = "/") -> str:
        fragment = launch_hash(
            self.init_data(),
            version=self.launch.version,
            platform=self.launch.platform,
            theme=self.launch.theme,
        )
        return f"{self.app_url}{path}#{fragment}"

    def open(self, path: str = "/", *, wait_for: str | None = "") -> TelegramHost:
        """Load `path` as launched from Telegram; wait for `wait_for` (default: the
        project's ready selector; None: nothing)."""
        self.page.goto(self.url(path))
        if self.script_missing:
            raise FileNotFoundError(
                f"{self.official_script} is missing (this app: run `make install`, "
                "scripts/fetch-telegram-js.sh)"
            )
        if wait_for == "":
            wait_for = self.project.ready_selector
        if wait_for:
            self.page.locator(wait_for).first.wait_for(timeout=20_000)
        return self

    # -- the client's controls ------------------------------------------------------------

    def minimize(self, *, hide_page: bool | None = None) -> None:
        """The member switches away: `visibility_changed` (8.0+) and, on a phone, a hidden page."""
        if self.supports_activation:
            self.send("visibility_changed", {"is_visible": False})
        if self._hides_page(hide_page):
            self.page.evaluate("window.__tgHost.setHidden(true)")

    def restore(self, *, hide_page: bool | None = None) -> None:
        if self._hides_page(hide_page):
            self.page.evaluate("window.__tgHost.setHidden(false)")
        if self.supports_activation:
            self.send("visibility_changed", {"is_visible": True})

    def set_theme(self, theme: str | Mapping[str, str]) -> None:
        params = dict(THEMES[theme] if isinstance(theme, str) else theme)
        self.page.evaluate("(t) => { window.__tgHost.config.theme = t; }", params)
        self.send("theme_changed", {"theme_params": params})

    def set_viewport(
        self, height: int, *, is_expanded: bool = True, is_state_stable: bool = True
    ) -> None:
        self.page.evaluate(
            "(v) => { Object.assign(window.__tgHost.config.viewport, v); }",
            {"height": height, "is_expanded": is_expanded},
        )
        self.send(
            "viewport_changed",
            {"height": height, "is_expanded": is_expanded, "is_state_stable": is_state_stable},
        )

    def set_safe_area(self, **insets: int) -> None:
        self.send("safe_area_changed", self._insets(insets))

    def set_content_safe_area(self, **insets: int) -> None:
        self.send("content_safe_area_changed", self._insets(insets))

    def press_back(self) -> None:
        self.send("back_button_pressed")

    def press_main_button(self) -> None:
        self.send("main_button_pressed")

    def go_offline(self) -> None:
        """The network is gone: HTTP fails, open WebSockets close, new ones cannot connect."""
        self.page.context.set_offline(True)
        self.page.evaluate("window.__tgHost.setOffline(true)")

    def go_online(self) -> None:
        self.page.evaluate("window.__tgHost.setOffline(false)")
        self.page.context.set_offline(False)

    def stall_connection(self) -> None:
        """Open WebSockets stay open but lose every frame (a half-open connection after the
        phone slept); new ones are not affected."""
        self.page.evaluate("window.__tgHost.stallSockets()")

    def send(self, event_type: str, data: Mapping[str, Any] | None = None) -> None:
        """Deliver an event from the client, as Telegram.WebView.receiveEvent."""
        self.page.evaluate(
            "([t, d]) => window.Telegram.WebView.receiveEvent(t, d)", [event_type, data]
        )

    # -- what the app asked of the client -------------------------------------------------

    def posted(self, event_type: str | None = None) -> list[Any]:
        """Data of every postEvent the page made (of one type, if given), oldest first."""
        events = self.page.evaluate("window.__tgHost.posted")
        return [e["data"] for e in events if event_type in (None, e["type"])]

    def posted_types(self) -> list[str]:
        return [e["type"] for e in self.page.evaluate("window.__tgHost.posted")]

    def wait_for_posted(self, event_type: str, timeout_ms: int = 10_000) -> Any:
        self.page.wait_for_function(
            "(t) => window.__tgHost.posted.some((e) => e.type === t)",
            arg=event_type,
            timeout=timeout_ms,
        )
        return self.posted(event_type)[-1]

    def sent_events(self, since_ms: float = 0, name_contains: str = "") -> list[str]:
        """Names of the events the page sent to the app's server since a `now_ms()`."""
        sent = self.page.evaluate("window.__tgHost.sent")
        return [e["name"] for e in sent if e["at"] >= since_ms and name_contains in e["name"]]

    def wait_for_sent(self, name_contains: str, timeout_ms: int = 15_000) -> None:
        """Until the page has sent an event whose name contains `name_contains`."""
        self.page.wait_for_function(
            "(part) => window.__tgHost.sent.some((e) => e.name.includes(part))",
            arg=name_contains,
            timeout=timeout_ms,
        )

    def received(self, since_ms: float = 0) -> list[dict[str, Any]]:
        """The state updates the server sent the page since a `now_ms()`, each a delta
        (state name -> {var: value}); var names lose Reflex's field suffix."""
        frames = self.page.evaluate(
            "(since) => window.__tgHost.received.filter((f) => f.at >= since)", since_ms
        )
        updates = []
        for frame in frames:
            text = frame["data"]
            # socket.io: "42<namespace>,<json array>" is an event: ["event", update].
            if not text.startswith("42"):
                continue
            body = text[2:]
            if body.startswith("/"):
                body = body.partition(",")[2]
            try:
                name, *args = json.loads(body)
            except ValueError:
                continue
            if name != "event" or not args or not isinstance(args[0], dict):
                continue
            delta = args[0].get("delta") or {}
            updates.append(
                {
                    state.rpartition(".")[2]: {
                        var.removesuffix("_rx_state_"): value for var, value in fields.items()
                    }
                    for state, fields in delta.items()
                }
            )
        return updates

    def socket_history(self, since_ms: float = 0) -> list[dict[str, Any]]:
        """The app's socket connects and disconnects (with the reason) since a `now_ms()`."""
        history = self.page.evaluate("window.__tgHost.socket")
        return [e for e in history if e["at"] >= since_ms]

    def now_ms(self) -> float:
        return float(self.page.evaluate("Date.now()"))

    @property
    def main_button(self) -> dict[str, Any]:
        """The MainButton as the app last set it up (text, is_visible, is_active, ...)."""
        return dict(self.page.evaluate("window.__tgHost.mainButton") or {})

    @property
    def back_button_visible(self) -> bool:
        return bool(self.page.evaluate("window.__tgHost.backButtonVisible"))

    @property
    def closing_confirmation(self) -> bool:
        return bool(self.page.evaluate("window.__tgHost.closingConfirmation"))

    @property
    def vertical_swipes(self) -> bool | None:
        return self.page.evaluate("window.__tgHost.verticalSwipes")

    def wait_for_main_button(self, timeout_ms: int = 10_000, **expected: Any) -> dict[str, Any]:
        """Wait until the MainButton's setup has every `expected` field (text=..., ...)."""
        self.page.wait_for_function(
            """(exp) => Object.entries(exp).every(
                   ([k, v]) => (window.__tgHost.mainButton || {})[k] === v)""",
            arg=expected,
            timeout=timeout_ms,
        )
        return self.main_button

    def wait_until(self, js: str, timeout_ms: int = 10_000, arg: Any = None) -> None:
        self.page.wait_for_function(js, arg=arg, timeout=timeout_ms)

    # -- internals --------------------------------------------------------------------------

    def _hides_page(self, hide_page: bool | None) -> bool:
        # A phone hides the webview when the client is minimized; desktop clients may not.
        return self.launch.platform in MOBILE if hide_page is None else hide_page

    @staticmethod
    def _insets(insets: Mapping[str, int]) -> dict[str, int]:
        return {side: int(insets.get(side, 0)) for side in ("top", "bottom", "left", "right")}

    def _serve_official_script(self, route: Any) -> None:
        if not self.official_script.exists():
            # Raising here would leave the request hanging; fail it and say why on open().
            self.script_missing = True
            route.abort()
            return
        body = self.official_script.read_text()
        route.fulfill(status=200, content_type="text/javascript", body=body)
