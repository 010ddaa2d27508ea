"""Reflex configuration: everything environment-specific comes from app.settings."""

import os

import reflex as rx

from app.frontend_plugins import RadixThemes
from app.settings import get_settings

_settings = get_settings()
if _settings.redis_url:
    # Read by `reflex run --env prod` when it starts granian (GRANIAN_WORKERS wins if set).
    os.environ.setdefault("GRANIAN_WORKERS", str(_settings.workers))

config = rx.Config(
    app_name="app",
    db_url=_settings.database_url,
    redis_url=_settings.redis_url,
    # Reflex keeps each tab's state in Redis when REDIS_URL is set (any worker, any
    # instance can serve the tab). A tab state lives 6 h after its last event, so a Mini App
    # minimized for an afternoon resumes with its inputs; past that it re-binds from
    # initData and the per-user store. A lock is held at most 5 s, so a worker killed
    # mid-event blocks its tabs for 5 s, not the 10 s default.
    redis_token_expiration=6 * 3600,
    redis_lock_expiration=5000,
    redis_lock_warning_threshold=1000,
    telemetry_enabled=False,
    # Ports come from the command line (`make run` passes PORT to both with --single-port):
    # a frontend_port here would make `reflex run --backend-only` refuse to start.
    show_built_with_reflex=False,
    # Static files are precompressed at build time; brotli is about 20 % smaller than gzip
    # for our bundle (bench/frontend.py), and gzip stays for clients without it.
    frontend_compression_formats=["brotli", "gzip"],
    api_url=_settings.public_url or f"http://localhost:{_settings.port}",
    plugins=[RadixThemes()],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
