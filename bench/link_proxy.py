"""A TCP relay that makes loopback behave like a phone's radio link, for bench/frontend.py.

Chromium's Network.emulateNetworkConditions delays and paces HTTP requests, but the
frontend bench showed that it leaves WebSocket frames alone (a tap's server round trip
under "Slow 4G" stayed below the 150 ms RTT), and everything the app shows after the first
load comes over its socket. So the bench serves the app through this relay instead, for
all traffic alike: each direction is one FIFO link shared by every connection (a phone has
one radio), paced at the profile's bit rate and delivered RTT/2 after it left; a new
connection first waits one RTT (TCP's SYN / SYN-ACK). No TLS is modelled: on a real phone
the first connection pays one or two more RTTs for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from dataclasses import dataclass

from bench.network import Profile, bytes_per_s

CHUNK = 8192  # the pacing's granularity: 41 ms of Slow 4G's downlink


@dataclass
class Link:
    """One direction: bytes leave one after another at `rate` (bytes/s, None = at once) and
    arrive `delay_s` after they have left."""

    delay_s: float
    rate: float | None
    free_at: float = 0.0  # when the bytes already queued will have left

    def schedule(self, now: float, size: int) -> float:
        """When `size` bytes handed over at `now` arrive at the other end."""
        start = max(now, self.free_at)
        self.free_at = start + (size / self.rate if self.rate else 0.0)
        return self.free_at + self.delay_s


def links(profile: Profile) -> tuple[Link, Link]:
    """(up, down) for `profile`: the RTT split evenly between the two directions."""
    half = profile.rtt_ms / 2000
    return Link(half, bytes_per_s(profile.up_kbit_s)), Link(half, bytes_per_s(profile.down_kbit_s))


class LinkProxy:
    """Listens on localhost:`port` and relays to localhost:`target`, under the profile set
    with `use` (at first none: a plain relay). Runs its own event loop in a thread."""

    def __init__(self, target: int, port: int) -> None:
        self.target, self.port = target, port
        self.profile = Profile("loopback")
        self._up, self._down = links(self.profile)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="link-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def use(self, profile: Profile) -> None:
        """New connections (and bytes queued from now on) go over `profile`'s links."""
        self.profile = profile
        self._up, self._down = links(profile)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError(f"the link proxy did not listen on port {self.port}")

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._relay, "localhost", self.port)
        self._ready.set()
        async with server:
            await self._stop.wait()
        # Connections still open (a page's socket) end with the relay, not after the loop.
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _relay(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        up, down = self._up, self._down
        await asyncio.sleep(self.profile.rtt_ms / 1000)  # the TCP handshake's round trip
        try:
            server_r, server_w = await asyncio.open_connection("localhost", self.target)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(
            self._pump(client_r, server_w, up),
            self._pump(server_r, client_w, down),
            return_exceptions=True,
        )
        for writer in (client_w, server_w):
            writer.close()

    async def _pump(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, link: Link
    ) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                at, data = await queue.get()
                await asyncio.sleep(max(0.0, at - loop.time()))
                if not data:
                    with contextlib.suppress(OSError):
                        sink.write_eof()
                    return
                sink.write(data)
                await sink.drain()

        sender = asyncio.create_task(deliver())
        try:
            while data := await source.read(CHUNK):
                queue.put_nowait((link.schedule(loop.time(), len(data)), data))
        finally:
            queue.put_nowait((link.schedule(loop.time(), 0), b""))
            await sender
