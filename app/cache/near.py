"""The near cache: in-process copies of the shared families' entries, kept coherent by
Redis pub/sub, so a hit costs no round trip.

Every generation or epoch bump in Redis publishes `<generation key>=<value>` on INVAL_CHANNEL
in the same script (app/cache/backends.py), so a bump is never without its message. Each
process listens on its own connection and drops a family's copies when its message arrives.

What a reader in another process can see, precisely: copies are served only while the
subscription is confirmed alive, i.e. a PING sent on the subscriber connection at most
`window_s` ago has been answered. Redis answers in order, so every invalidation published
before that PING was handled first. Hence a read that starts `window_s` (0.5 s) or more after
a write's invalidate() returned, in any process, never sees the pre-write value; normally
the window is the pub/sub delivery time (well under a millisecond). In the writing process
invalidate() drops the copies itself before it returns: no window at all. When the
subscription is lost, not yet confirmed, or a message cannot be read, every copy is dropped
and none is served or stored until a new subscription is confirmed; so nothing published
while we were not listening can be missed.

Only shared families (feed, leaderboard, market, banners) are copied: a member's own data
(profile, history, purchases) is always read from Redis, so a member sees their own write
at once on every instance.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from app.cache.keys import EPOCH_KEY, INVAL_CHANNEL, Family

log = logging.getLogger(__name__)


class NearCache:
    def __init__(
        self,
        subscribe: Callable[[], Any],
        *,
        ping_s: float = 0.1,
        window_s: float = 0.5,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._subscribe = subscribe  # -> a redis-py PubSub on a connection of its own
        self.ping_s = ping_s
        self.window_s = window_s
        self.max_entries = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        # generation key -> {entry key -> raw entry}
        self._families: dict[str, dict[str, bytes]] = {}
        self._size = 0
        # Tokens: a copy read from Redis is kept only if no message for its family (and no
        # clear) arrived since the reader took its token, before its Redis read.
        self._counter = 0
        self._family_seq: dict[str, int] = {}
        self._cleared = 0
        self._confirmed_at = -1e18  # when the last answered PING was sent
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pubsub: Any = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._listen, name="near-cache", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        pubsub = self._pubsub
        if pubsub is not None:
            with contextlib.suppress(Exception):
                pubsub.close()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.clear()

    @property
    def live(self) -> bool:
        return self._clock() - self._confirmed_at < self.window_s

    def wait_live(self, timeout_s: float = 5.0) -> bool:
        """Block until a subscription is confirmed (tests, and a warm start)."""
        self.start()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.live:
                return True
            time.sleep(0.005)
        return False

    # -- the copies --------------------------------------------------------------------

    @staticmethod
    def covers(family: Family) -> bool:
        return not family.tag.startswith("u:")

    def get(self, family: Family, key: str) -> bytes | None:
        if not self.live:
            return None
        with self._lock:
            entries = self._families.get(family.generation_key)
            return entries.get(key) if entries else None

    def token(self, family: Family) -> tuple[int, int]:
        if self._thread is None:
            self.start()
        return (self._counter, self._cleared)

    def put(self, family: Family, key: str, raw: bytes, token: tuple[int, int]) -> None:
        """Keep a copy of what Redis (or our own store) holds for the current generation."""
        if not self.live:
            return
        name = family.generation_key
        with self._lock:
            counter, cleared = token
            if cleared != self._cleared or self._family_seq.get(name, -1) > counter:
                return  # a message for this family came after the reader's token
            if self._size >= self.max_entries:
                self._drop_all()
            entries = self._families.setdefault(name, {})
            if key not in entries:
                self._size += 1
            entries[key] = raw

    def drop(self, generation_keys: list[str]) -> None:
        """The families changed: forget their copies (and refuse copies read before)."""
        with self._lock:
            for name in generation_keys:
                if name == EPOCH_KEY:
                    self._drop_all()
                    continue
                self._counter += 1
                self._family_seq[name] = self._counter
                entries = self._families.pop(name, None)
                if entries:
                    self._size -= len(entries)
            if len(self._family_seq) > 100_000:
                self._drop_all()

    def clear(self) -> None:
        with self._lock:
            self._drop_all()

    def _drop_all(self) -> None:
        self._families.clear()
        self._family_seq.clear()
        self._size = 0
        self._cleared += 1

    def __len__(self) -> int:
        return self._size

    # -- the subscriber ----------------------------------------------------------------

    def _lost(self) -> None:
        self._confirmed_at = -1e18
        self.clear()

    def _listen(self) -> None:
        backoff = 0.05
        while not self._stop.is_set():
            try:
                self._session()
                backoff = 0.05
            except Exception as exc:  # any failure: forget everything, then resubscribe
                self._lost()
                if self._stop.is_set():
                    return
                log.info("near cache subscription lost (%s); copies dropped", exc)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 1.0)
            finally:
                pubsub, self._pubsub = self._pubsub, None
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        pubsub.close()
                        pubsub.connection_pool.disconnect()

    def _session(self) -> None:
        self._lost()
        pubsub = self._pubsub = self._subscribe()
        pubsub.subscribe(INVAL_CHANNEL)
        last_ping = -1e18
        while not self._stop.is_set():
            now = self._clock()
            if now - last_ping >= self.ping_s:
                pubsub.ping(repr(now))
                last_ping = now
            message = pubsub.get_message(timeout=self.ping_s / 2)
            if message is None:
                if self._confirmed_at > -1e17 and self._clock() - last_ping > 4 * self.window_s:
                    raise TimeoutError("no answer to PING on the subscriber connection")
                continue
            kind = message.get("type")
            if kind == "message":
                data = message["data"]
                text = data.decode() if isinstance(data, bytes) else str(data)
                self.drop([text.rpartition("=")[0] or text])
            elif kind == "pong":
                data = message["data"]
                with contextlib.suppress(ValueError):
                    sent = float(data.decode() if isinstance(data, bytes) else data)
                    if sent > self._confirmed_at:
                        self._confirmed_at = sent
            elif kind == "subscribe" and message.get("data") != 1:
                raise RuntimeError(f"unexpected subscription reply {message!r}")
