"""Reflex configuration: everything environment-specific comes from app.settings."""

import os

import reflex as rx

from app.frontend_plugins import RadixThemes
from app.settings import get_settings

_settings = get_settings()
_public = _settings.public_url or f"http://localhost:{_settings.port}"
# Where the page is served from: the only origin whose pages may call the API with the
# member's credentials or open the socket (Reflex's default is any origin). A dev server
# is also reached as 127.0.0.1.
_origins = [_public.rstrip("/")]
if not _settings.public_url:
    _origins.append(f"http://127.0.0.1:{_settings.port}")
# The largest socket message the server takes (engine.io's default is 1 MB): the hydrate,
# which carries the launch data (at most 8 KB), is far smaller.
os.environ.setdefault("REFLEX_SOCKET_MAX_HTTP_BUFFER_SIZE", str(64 * 1024))
if _settings.redis_url:
    # Read by `reflex run --env prod` when it starts granian (GRANIAN_WORKERS wins if set).
    os.environ.setdefault("GRANIAN_WORKERS", str(_settings.workers))

config = rx.Config(
    app_name="app",
    db_url=_settings.database_url,
    redis_url=_settings.state_redis_url or _settings.redis_url,
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
    api_url=_public,
    cors_allowed_origins=_origins,
    plugins=[RadixThemes()],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
