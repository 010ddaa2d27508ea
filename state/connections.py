"""At most N open sockets per client address in each worker process.

Every socket is a tab state in Redis and a slot on the event loop; one address opening
hundreds of them (a script, not a phone) would take them from everyone else. Members behind
one carrier NAT share an address, so the bound is generous (CONNECTIONS_PER_ADDRESS, 0: no
bound). The address is the one Reflex gives the tab (REFLEX's trusted_proxy_hops decides
whether X-Forwarded-For counts). A refused socket gets socket.io's connect error, and the
page keeps retrying as it does for any failed connect.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import reflex as rx
from reflex_base import constants
from socketio.exceptions import ConnectionRefusedError as Refused


class PerAddress:
    """Counts the sockets of one event namespace by address."""

    def __init__(self, namespace: Any, limit: int) -> None:
        self.namespace = namespace
        self.limit = limit
        self.open: Counter[str] = Counter()
        self._address_of: dict[str, str] = {}
        self._connect = namespace.on_connect
        self._disconnect = namespace.on_disconnect

    def address(self, sid: str, environ: dict[str, Any]) -> str:
        data = self.namespace._build_static_router_data(sid, environ)
        return str(data.get(constants.RouteVar.CLIENT_IP, "?"))

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> Any:
        address = self.address(sid, environ)
        if self.open[address] >= self.limit:
            raise Refused("too many connections from this address")
        self.open[address] += 1
        self._address_of[sid] = address
        try:
            return await self._connect(sid, environ, auth)
        except BaseException:
            self._release(sid)
            raise

    def on_disconnect(self, sid: str, *_reason: Any) -> Any:
        # socket.io passes a reason that Reflex's handler does not take.
        self._release(sid)
        return self._disconnect(sid)

    def _release(self, sid: str) -> None:
        address = self._address_of.pop(sid, None)
        if address is not None:
            self.open[address] -= 1
            if self.open[address] <= 0:
                del self.open[address]


def install(app: rx.App, limit: int) -> PerAddress | None:
    namespace = app.event_namespace
    if (
        limit <= 0
        or namespace is None
        or isinstance(getattr(namespace, "per_address", None), PerAddress)
    ):
        return None
    bound = PerAddress(namespace, limit)
    # Instance attributes: socket.io finds a namespace's handlers with getattr.
    namespace.on_connect = bound.on_connect
    namespace.on_disconnect = bound.on_disconnect
    namespace.per_address = bound
    return bound
