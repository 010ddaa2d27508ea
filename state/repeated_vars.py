"""A navigation's `update_vars_internal` that only repeats what its socket sent is not run.

On every client-side navigation the page sends two events: `update_vars_internal`, with
every sessionStorage-backed var (the launch's initData, the lifecycle flag, the send
form's draft), then `on_load_internal`. The first one almost always carries exactly what
the same socket sent the time before, which the tab's state already holds; running it
still costs a full Reflex event (the lock, loading and saving three substates), and
navigation is the most frequent thing members do. So the socket remembers a digest of the
vars it last passed on to Reflex, and an identical repeat is dropped before Reflex sees it. The page
waits for no answer to it (events are not acknowledged), so nothing changes on screen.

What keeps this safe:
- a different value (a new draft, the server's own change echoed back) is always applied;
- the memory is per socket: a reconnect (after a restart, on another instance) starts empty;
- a digest older than REMEMBER_S is forgotten, so a state that expired or was evicted in
  Redis meanwhile gets its values back on the next navigation (REMEMBER_S is below every
  state TTL).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import reflex as rx

from state.unbound_tabs import UNBOUND_TTL_S

UPDATE_VARS = "reflex___state____update_vars_internal_state.update_vars_internal"
REMEMBER_S = 60.0
assert REMEMBER_S < UNBOUND_TTL_S


def _digest(vars_: Any) -> bytes | None:
    try:
        text = json.dumps(vars_, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


class RepeatedVars:
    def __init__(self, namespace: Any) -> None:
        self.dropped = 0
        self._last: dict[str, tuple[bytes, float]] = {}
        self._event = namespace.on_event
        self._disconnect = namespace.on_disconnect

    def repeats(self, sid: str, data: Any) -> bool:
        """Whether `data` is an update_vars_internal this socket just passed on."""
        if not isinstance(data, dict) or not str(data.get("name", "")).endswith(UPDATE_VARS):
            return False
        payload = data.get("payload")
        digest = _digest(payload.get("vars")) if isinstance(payload, dict) else None
        if digest is None:
            return False
        now = time.monotonic()
        last = self._last.get(sid)
        if last is not None and last[0] == digest and now - last[1] < REMEMBER_S:
            return True
        self._last[sid] = (digest, now)
        return False

    async def on_event(self, sid: str, data: Any) -> Any:
        if self.repeats(sid, data):
            self.dropped += 1
            return None
        return await self._event(sid, data)

    def on_disconnect(self, sid: str, *_reason: Any) -> Any:
        # socket.io passes a reason that Reflex's handler does not take.
        self._last.pop(sid, None)
        return self._disconnect(sid)


def install(app: rx.App) -> RepeatedVars | None:
    namespace = app.event_namespace
    if namespace is None or isinstance(getattr(namespace, "repeated_vars", None), RepeatedVars):
        return None
    skip = RepeatedVars(namespace)
    # Instance attributes: socket.io finds a namespace's handlers with getattr.
    namespace.on_event = skip.on_event
    namespace.on_disconnect = skip.on_disconnect
    namespace.repeated_vars = skip
    return skip
