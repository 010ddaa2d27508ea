"""Bounds on what a browser may write into its tab's state by itself.

Reflex lets the page set its client-storage vars (the sessionStorage-backed `launch`
and `shown`) with the hydrate and with `update_vars_internal` on every
navigation, past the vars' own setters. A hostile client can send any value there, and the
tab state keeps it in Redis for hours. Every such value is checked against its field's
limit before Reflex applies it: text longer than the field (or not text) becomes "", the
var's empty value, as if the page had nothing stored.

The socket's upgrade headers reach every event's `router_data` too, and so the stored root
state: only the few the app or Reflex reads are kept, each cut to a length a browser
sends (a cookie or a 300 KB made-up header would otherwise be stored with the tab).
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import Event
from reflex.middleware import Middleware
from reflex.state import BaseState, StateUpdate
from reflex_base import constants
from reflex_base.constants.state import FIELD_MARKER

from app.telegram.init_data import MAX_INIT_DATA_CHARS
from state.lifecycle import LifecycleState
from state.session import SessionState

LIMITS: dict[str, int] = {
    f"{cls.get_full_name()}.{name}": limit
    for cls, name, limit in (
        (SessionState, "launch", MAX_INIT_DATA_CHARS),
        (LifecycleState, "shown", 8),
    )
}


def bounded(client_vars: dict[str, Any]) -> None:
    """Make every value fit its field, in place."""
    for key, value in list(client_vars.items()):
        limit = LIMITS.get(key.removesuffix(FIELD_MARKER))
        if limit is None:
            del client_vars[key]  # not one of ours: Reflex would ignore it or worse
        elif not isinstance(value, str) or len(value) > limit:
            client_vars[key] = ""


class BoundedClientVars(Middleware):
    async def preprocess(self, app: rx.App, state: BaseState, event: Event) -> StateUpdate | None:
        client_vars = event.payload.get("vars") if isinstance(event.payload, dict) else None
        if isinstance(client_vars, dict):
            bounded(client_vars)
        return None


def install(app: rx.App) -> None:
    # First: before Reflex's own hydrate middleware applies the hydrate's vars.
    app.add_middleware(BoundedClientVars(), index=0)


HEADER_LIMITS = {
    "host": 256,
    "origin": 256,
    "user-agent": 512,
    "accept-language": 128,
    "x-forwarded-for": 256,  # read for the client address behind trusted proxies
    "asgi-scope-client": 64,  # Reflex's own entry: the peer address
}


def kept_headers(headers: dict[str, str]) -> dict[str, str]:
    return {
        name: value[:limit]
        for name, value in headers.items()
        if (limit := HEADER_LIMITS.get(name)) is not None
    }


def install_header_bound(app: rx.App) -> None:
    """In each worker, once its socket namespace exists."""
    namespace = app.event_namespace
    if namespace is None or getattr(namespace, "headers_bounded", False):
        return
    build = namespace._build_static_router_data

    def bounded_router_data(sid: str, environ: dict[str, Any]) -> dict[str, Any]:
        data = build(sid, environ)
        data[constants.RouteVar.HEADERS] = kept_headers(data[constants.RouteVar.HEADERS])
        return data

    # An instance attribute: Reflex calls it through the namespace object.
    namespace._build_static_router_data = bounded_router_data
    namespace.headers_bounded = True
