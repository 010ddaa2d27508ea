"""get_or_load: the read-through cache every screen's query goes through.

Correctness rules, in order of importance:
- Never serve data older than the last write through the app. Each entry records the
  generation of its family (and the global epoch) as they were when its load began; a write
  bumps the family's generation after its commit, so an entry from before, including one a
  slow load stores after the write, no longer matches and is reloaded.
- Never go down because Redis did. Backend errors fall through to the loader; a circuit
  breaker stops trying for a moment so requests do not each wait for a timeout. An
  invalidation that could not be delivered marks the cache dirty, and the first successful
  call afterwards bumps the epoch, which retires every entry from before the outage.
- Ask the database once per key at a time (single flight): in this process by waiting on the
  first loader, across processes by a short Redis lock; waits are bounded, then we load.
- With `near=True` (the app on Redis), the shared families' entries are also copied in
  process (app/cache/near.py): in the writing process invalidate() drops them before it
  returns; another process stops serving them within its pub/sub delivery time, and never
  later than `window_s` (0.5 s) after the write's invalidate() returned. A member's own
  families are never copied, so they keep the rule above across processes too.
- An entry carries its expiry time, so a copy never outlives the Redis entry's TTL.
- A write may hand over the new values of entries it changed instead of only dropping them
  (register() before its commit, finish_write() after it). They are stored under the new
  generation, in the same Redis script as the bump, only when that is exactly what a load
  would now return: see finish_write(). A patched entry keeps the expiry of the entry it
  was made from, so the TTL still bounds how long a change made outside the app can hide.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from app.cache import codec
from app.cache.backends import GENERATION_TTL_S, Backend, BackendError, RedisBackend
from app.cache.breaker import CircuitBreaker
from app.cache.keys import EPOCH_KEY, CacheKey, Family
from app.cache.metrics import BREAKER_OPEN, CacheStats
from app.cache.near import NearCache
from app.cache.policy import Policy
from app.cache.writes import Patch, PendingWrite, Writes, WriteTicket, writing

T = TypeVar("T")
EPOCH_TTL_S = 30 * 24 * 3600  # a new (random) epoch retires every entry: keep it long
log = logging.getLogger(__name__)


@dataclass
class _Flight:
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    ok: bool = False


class Cache:
    """The read-through cache on a backend (Redis, or the in-process dict without Redis).
    Without any cache at all, a Database has a nocache.NoCache instead."""

    enabled = True

    def __init__(
        self,
        backend: Backend,
        *,
        breaker: CircuitBreaker | None = None,
        lock_ttl_ms: int = 5000,
        wait_s: float = 2.0,
        poll_s: float = 0.005,
        near: bool | NearCache = False,
    ) -> None:
        self.backend = backend
        # Copies in process only of what other processes can tell us to drop: a backend
        # shared by processes publishes its bumps (the in-process one has no others).
        if isinstance(near, NearCache):
            self.near: NearCache | None = near
        elif near and isinstance(backend, RedisBackend):
            self.near = NearCache(backend.subscriber)
        else:
            self.near = None
        self.breaker = breaker or CircuitBreaker()
        self.stats = CacheStats()
        self.lock_ttl_ms = lock_ttl_ms
        self.wait_s = wait_s
        self.poll_s = poll_s
        self._flights: dict[str, _Flight] = {}
        self._flights_lock = threading.Lock()
        self._dirty = False
        self.writes_made = 0  # writes this process made: separates offline flights
        self.writes = Writes(self)
        self._last_logged = -1e9

    # -- backend calls guarded by the breaker ------------------------------------------

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a backend call; BackendError when the breaker is open or the call fails."""
        if not self.breaker.allow():
            raise BackendError("circuit open")
        try:
            if self._dirty:
                # An invalidation was lost while the backend was down: bump the epoch
                # before anything is read, so no entry written before can be served.
                self.backend.incr(EPOCH_KEY, EPOCH_TTL_S)  # published: every copy goes
                self._dirty = False
                if self.near is not None:
                    self.near.clear()
                log.warning("cache epoch bumped after an outage: older entries retired")
            result = fn(*args)
        except BackendError as exc:
            self.breaker.failure()
            BREAKER_OPEN.set(1 if self.breaker.is_open else 0)
            # Once per minute at most: a flapping Redis must not flood the log.
            now = time.monotonic()
            if now - self._last_logged > 60:
                self._last_logged = now
                log.warning("cache backend unavailable (%s); serving from the database", exc)
            raise
        if self.breaker.success():
            BREAKER_OPEN.set(0)
        return result

    # -- reads -------------------------------------------------------------------------

    def lost_invalidation(self) -> None:
        """A bump could not be delivered: until the epoch is bumped (the first successful
        call), nothing read before may be trusted, here or in other processes."""
        self._dirty = True
        if self.near is not None:
            self.near.clear()

    # -- reads -------------------------------------------------------------------------

    def get_or_load(self, key: CacheKey, policy: Policy, loader: Callable[[], T], type_: Any) -> T:
        token = None
        if self.near is not None and self.near.covers(key.family):
            copy = self._near_get(key, policy, type_)
            if copy is not None:
                found: T = copy[0]
                return found
            token = self.near.token(key.family)
        try:
            epoch, gen, value = self._lookup(key, type_, token)
        except BackendError:
            # Still one load per key at a time in this process, or a stampede during an
            # outage (or a moment of pool exhaustion) would reach the database every time.
            self.stats.count(policy.name, "errors")
            return self._single_flight(key, policy, loader, type_, None, None)
        if value is not None:
            self.stats.count(policy.name, "hits")
            hit: T = value[0]
            return hit
        self.stats.count(policy.name, "misses")
        return self._single_flight(key, policy, loader, type_, epoch, gen, token)

    def _near_get(self, key: CacheKey, policy: Policy, type_: Any) -> tuple[Any] | None:
        assert self.near is not None
        raw = self.near.get(key.family, key.text)
        if raw is None:
            return None
        found = codec.decode_copy(raw, type_)
        if found is not None:
            self.stats.count(policy.name, "hits")
            self.stats.count(policy.name, "near_hits")
        return found

    def _keep(self, key: CacheKey, raw: bytes | None, token: tuple[int, int] | None) -> None:
        """Copy an entry of the current generation into the near cache."""
        if token is not None and raw is not None and self.near is not None:
            self.near.put(key.family, key.text, raw, token)

    def _lookup(
        self, key: CacheKey, type_: Any, token: tuple[int, int] | None = None
    ) -> tuple[int, int, tuple[Any] | None]:
        names = [EPOCH_KEY, key.family.generation_key, key.text]
        raw_epoch, raw_gen, raw = self.call(self.backend.read, names)
        if raw_epoch is None or raw_gen is None:
            # A counter is missing (a fresh or restarted Redis, an eviction): start it at a
            # random value, never at 0 again, so that a load which began before and stores
            # its entry now cannot match the restarted counters by accident.
            for name, current, ttl_s in (
                (EPOCH_KEY, raw_epoch, EPOCH_TTL_S),
                (key.family.generation_key, raw_gen, GENERATION_TTL_S),
            ):
                if current is None:
                    start = str(secrets.randbits(48))
                    self.call(self.backend.acquire, name, start, ttl_s * 1000)
            raw_epoch, raw_gen, raw = self.call(self.backend.read, names)
        try:
            epoch, gen = int(raw_epoch or 0), int(raw_gen or 0)
        except ValueError as exc:  # a foreign value in a counter: do not cache, do not crash
            raise BackendError(f"unreadable generation or epoch: {exc}") from exc
        found = codec.decode(raw, type_, epoch, gen)
        if found is not None:
            self._keep(key, raw, token)
        return epoch, gen, found

    def get_many(self, items: list[tuple[CacheKey, Policy, Callable[[], Any], Any]]) -> list[Any]:
        """Several get_or_load in one round trip to the backend (a screen's parts)."""
        if len(items) < 2:
            return [self.get_or_load(*item) for item in items]
        tokens: list[tuple[int, int] | None] = [None] * len(items)
        if self.near is not None:
            near = self.near
            copies = []
            for key, policy, _, type_ in items:
                if not near.covers(key.family):
                    break
                copy = near.get(key.family, key.text)
                found = codec.decode_copy(copy, type_) if copy is not None else None
                if found is None:
                    break
                copies.append((policy, found[0]))
            else:
                for policy, _ in copies:
                    self.stats.count(policy.name, "hits")
                    self.stats.count(policy.name, "near_hits")
                return [value for _, value in copies]
            tokens = [near.token(k.family) if near.covers(k.family) else None for k, *_ in items]
        gen_keys = list(dict.fromkeys(key.family.generation_key for key, *_ in items))
        try:
            raws = self.call(
                self.backend.read, [EPOCH_KEY, *gen_keys, *(key.text for key, *_ in items)]
            )
            counters = [int(raw) if raw is not None else None for raw in raws[: 1 + len(gen_keys)]]
        except (BackendError, ValueError):
            return [self.get_or_load(*item) for item in items]
        present = [c for c in counters if c is not None]
        if len(present) < len(counters):  # a counter to start: the one-key path knows how
            return [self.get_or_load(*item) for item in items]
        epoch, gens = present[0], dict(zip(gen_keys, present[1:], strict=True))
        results: list[Any] = []
        entries = zip(items, raws[1 + len(gen_keys) :], tokens, strict=True)
        for (key, policy, loader, type_), raw, token in entries:
            gen = gens[key.family.generation_key]
            found = codec.decode(raw, type_, epoch, gen)
            if found is not None:
                self.stats.count(policy.name, "hits")
                self._keep(key, raw, token)
                results.append(found[0])
            else:
                self.stats.count(policy.name, "misses")
                results.append(self._single_flight(key, policy, loader, type_, epoch, gen, token))
        return results

    def _single_flight(
        self,
        key: CacheKey,
        policy: Policy,
        loader: Callable[[], T],
        type_: Any,
        epoch: int | None,
        gen: int | None,
        token: tuple[int, int] | None = None,
    ) -> T:
        # The flight is per generation: a request that arrives after a write must not be
        # handed a load that began before it. Without the backend (epoch None), this
        # process's own count of writes plays that part.
        if epoch is None or gen is None:
            flight_id = f"{key.text}#offline.{self.writes_made}"
        else:
            flight_id = f"{key.text}#{epoch}.{gen}"
        with self._flights_lock:
            flight = self._flights.get(flight_id)
            leader = flight is None
            if leader:
                flight = self._flights[flight_id] = _Flight()
        assert flight is not None
        if not leader:
            if flight.done.wait(self.wait_s) and flight.ok:
                self.stats.count(policy.name, "coalesced")
                shared: T = flight.value
                return shared
            return self._load(policy, loader)
        try:
            if epoch is None or gen is None:
                value = self._load(policy, loader)
            else:
                value = self._lead(key, policy, loader, type_, epoch, gen, token)
            flight.value, flight.ok = value, True
            return value
        finally:
            flight.done.set()
            with self._flights_lock:
                self._flights.pop(flight_id, None)

    def _lead(
        self,
        key: CacheKey,
        policy: Policy,
        loader: Callable[[], T],
        type_: Any,
        epoch: int,
        gen: int,
        near_token: tuple[int, int] | None = None,
    ) -> T:
        lock_key, token = f"{key.text}:lock:{epoch}.{gen}", secrets.token_hex(8)
        try:
            locked = self.call(self.backend.acquire, lock_key, token, self.lock_ttl_ms)
        except BackendError:
            return self._load(policy, loader)
        if not locked:
            # Another process is loading this key: wait for its result, bounded.
            deadline = time.monotonic() + self.wait_s
            while time.monotonic() < deadline:
                time.sleep(self.poll_s)
                try:
                    _, _, found = self._lookup(key, type_, near_token)
                except BackendError:
                    break
                if found is not None:
                    self.stats.count(policy.name, "coalesced")
                    theirs: T = found[0]
                    return theirs
            return self._load(policy, loader)
        try:
            # Check again under the lock: a request that missed just before the previous
            # leader stored (and let go of its flight and lock) must not load a second time.
            try:
                _, _, found = self._lookup(key, type_, near_token)
            except BackendError:
                found = None
            if found is not None:
                self.stats.count(policy.name, "coalesced")
                stored: T = found[0]
                return stored
            value = self._load(policy, loader)
            raw = codec.encode(epoch, gen, value, time.time() + policy.ttl_s)
            try:
                self.call(self.backend.write, key.text, raw, policy.ttl_s)
            except BackendError:
                self.stats.count(policy.name, "errors")
            else:
                self._keep(key, raw, near_token)
            return value
        finally:
            with contextlib.suppress(BackendError):  # else the lock expires on its own
                self.call(self.backend.release, lock_key, token)

    def _load(self, policy: Policy, loader: Callable[[], T]) -> T:
        return self.stats.timed_load(policy.name, loader)

    # -- writes ------------------------------------------------------------------------

    def versions(self, families: list[Family]) -> dict[str, int] | None:
        """The families' current generations (and the epoch): a cheap "anything new?"
        for live screens. None without a reachable backend."""
        names = [EPOCH_KEY, *(f.generation_key for f in families)]
        try:
            raws = self.call(self.backend.read, names)
            return {name: int(raw or 0) for name, raw in zip(names, raws, strict=True)}
        except (BackendError, ValueError):
            return None

    def retire_everything(self) -> None:
        """After data changed behind the app's back (a reseed, a restore): no entry from
        before is served again. If the backend is down, done once it is back."""
        self.lost_invalidation()
        with contextlib.suppress(BackendError):
            self.call(self.backend.ping)

    def invalidate(self, *families: Family) -> None:
        """Call after the write's commit: entries of these families are no longer served."""
        if not families:
            return
        self.writes_made += 1
        names = [f.generation_key for f in families]
        try:
            self.call(self.backend.bump, names)
        except BackendError:
            self.lost_invalidation()
        else:
            # Synchronous in this process; other processes follow on the bump's message.
            if self.near is not None:
                self.near.drop(names)

    def register(self, *families: Family) -> WriteTicket:
        """See writes.Writes.register: inside the write's transaction, before its commit."""
        return self.writes.register(*families)

    def writing(self) -> contextlib.AbstractContextManager[PendingWrite]:
        """Around a write in app/domain (writes.writing)."""
        return writing(self)

    def finish_write(
        self, ticket: WriteTicket, patches: list[Patch] | tuple[Patch, ...] = ()
    ) -> None:
        """See writes.Writes.finish: after the commit, or after a failed one."""
        self.writes.finish(ticket, patches)

    def close(self) -> None:
        """Stop the near cache's subscriber (the backend's pool is left as it is)."""
        if self.near is not None:
            self.near.close()
