"""Reflex configuration: everything environment-specific comes from app.settings."""

import reflex as rx

from app.settings import get_settings

_settings = get_settings()

config = rx.Config(
    app_name="app",
    db_url=_settings.database_url,
    redis_url=_settings.redis_url,
    telemetry_enabled=False,
    frontend_port=_settings.port,
    backend_port=_settings.port,
    show_built_with_reflex=False,
    api_url=_settings.public_url or f"http://localhost:{_settings.port}",
    plugins=[rx.plugins.RadixThemesPlugin()],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
