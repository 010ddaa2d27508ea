"""The Reflex app: pages, global style, and the REST API mounted on the same port."""

from __future__ import annotations

import reflex as rx

from app.api import build_api
from app.pages import PAGES
from app.settings import get_settings
from state.navigation import register_screen

app = rx.App(
    api_transformer=build_api(),
    stylesheets=["/styles.css"],
    theme=None,
    head_components=[
        rx.el.meta(name="color-scheme", content="light dark"),
        # Telegram's script must run before the app reads WebApp.initData.
        rx.el.script(src=get_settings().script_url),
        # CloudStorage-shaped access to the /cache routes (window.AppStorage).
        rx.el.script(src="/storage.js", defer=True),
    ],
)
for page in PAGES:
    app.add_page(page.render, route=page.route, title=page.title, on_load=page.load_events())
    register_screen(page.route, page.screen_events())
