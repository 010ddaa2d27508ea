"""The Reflex app: pages, global style, and the REST API mounted on the same port."""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from app.api import build_api
from app.api.security_headers import security_headers
from app.api.static_cache import immutable_assets
from app.domain.db import get_database
from app.domain.queries import warm_up
from app.pages import PAGES
from app.pages.registry import views
from app.settings import get_settings
from state import client_vars, connections, live, lock_slots, repeated_vars, unbound_tabs
from state.navigation import reflex_route, register_screen

app = rx.App(
    # The API beside Reflex on one port; long caching for the hashed build files; the
    # headers every answer carries.
    api_transformer=[build_api(), immutable_assets, security_headers],
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
for page, view in views(PAGES):
    app.add_page(view, route=page.route, title=page.title, on_load=page.load_events())
    register_screen(page.route, page.screen_events())
    live.register(reflex_route(page.route), page.live)
live.install(app)
client_vars.install(app)


@app.register_lifespan_task
def bound_per_worker() -> None:
    # At start, in each worker: its own state manager, event loop and sockets.
    lock_slots.install(app, get_settings().state_lock_slots)
    connections.install(app, get_settings().connections_per_address)
    unbound_tabs.install(app)
    client_vars.install_header_bound(app)
    repeated_vars.install(app)


@app.register_lifespan_task
async def warm_caches() -> None:
    # In the background: the server takes requests meanwhile, and a database that is
    # down at start is reported by the first screen that needs it, not by the start.
    try:
        await asyncio.to_thread(warm_up, get_database())
    except Exception:
        logging.getLogger(__name__).warning("warm-up at start failed", exc_info=True)
