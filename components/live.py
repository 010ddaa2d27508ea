"""LiveTicker (assets/live_ticker.jsx): a slow heartbeat while the Mini App is active."""

from __future__ import annotations

import reflex as rx
from reflex.event import no_args_event_spec


class LiveTicker(rx.Component):
    library = "$/public/live_ticker.jsx"
    tag = "LiveTicker"

    interval: rx.Var[int]
    active: rx.Var[bool]
    on_tick: rx.EventHandler[no_args_event_spec]


live_ticker = LiveTicker.create
