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
import functools
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import msgspec

from app.cache.backends import GENERATION_TTL_S, Backend, BackendError
from app.cache.breaker import CircuitBreaker
from app.cache.keys import EPOCH_KEY, CacheKey, Family
from app.cache.metrics import BREAKER_OPEN, CacheStats
from app.cache.near import NearCache
from app.cache.policy import Policy

T = TypeVar("T")
EPOCH_TTL_S = 30 * 24 * 3600  # a new (random) epoch retires every entry: keep it long
# How long a registered write may take from register() to finish_write() before its lease
# lapses (its finish then only bumps). Far beyond any write's transaction; a crashed writer
# only stops patching of its families for this long, never makes it unsafe.
WRITE_LEASE_MS = 120_000
REGISTER_WAIT_S = 0.025  # how long a write waits for another one's finish before register
REGISTER_POLL_S = 0.001
MIN_PATCH_TTL_S = 0.1  # an entry this close to its expiry is not worth patching
log = logging.getLogger(__name__)
_encoder = msgspec.msgpack.Encoder()
_decoders: dict[Any, msgspec.msgpack.Decoder[Any]] = {}


def _decoder(type_: Any) -> msgspec.msgpack.Decoder[Any]:
    decoder = _decoders.get(type_)
    if decoder is None:
        # (epoch, generation, value, expires at: Unix seconds)
        decoder = _decoders[type_] = msgspec.msgpack.Decoder(tuple[int, int, type_, float])
    return decoder


def _decode(raw: bytes | None, type_: Any, epoch: int, gen: int) -> tuple[Any] | None:
    """The entry's value if it was stored under this epoch and generation, else None."""
    if raw is None:
        return None
    try:
        entry_epoch, entry_gen, value, _ = _decoder(type_).decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
        return None  # written by another version: a miss
    if entry_epoch == epoch and entry_gen == gen:
        return (value,)
    return None


def _decode_copy(raw: bytes, type_: Any) -> tuple[Any] | None:
    """A near-cache copy's value, unless its TTL has run out."""
    try:
        _, _, value, expires_at = _decoder(type_).decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
        return None
    return (value,) if expires_at > time.time() else None


@dataclass(frozen=True, slots=True)
class Patch:
    """The value of one cached entry after a write (Cache.finish_write).

    Either `update`: the entry's value before -> after (None: cannot tell; the entry is
    dropped). It must give the same result whether or not the old value already includes
    this write (a load may have run after the commit). Or `value`: the entry's whole new
    value, read in the write's own transaction (then it gets a fresh TTL, like a load).
    """

    key: CacheKey
    policy: Policy
    type_: Any
    update: Callable[[Any], Any] | None = None
    value: Any = None


@dataclass(slots=True)
class WriteTicket:
    """A write announced with Cache.register; finish it with Cache.finish_write."""

    families: tuple[Family, ...]
    token: str
    generations: dict[str, int] | None = None  # None: not registered (no backend, or down)
    done: bool = False


@dataclass
class PendingWrite:
    """One write's business with the cache, from inside its transaction to after it (see
    Cache.writing): what it registered, and what it may patch in once committed."""

    cache: Cache
    tickets: list[WriteTicket] = field(default_factory=list)
    patches: list[Patch] = field(default_factory=list)

    def register(self, *families: Family) -> None:
        """Inside the transaction, after its last statement (Cache.register). A retried
        transaction registers again; every ticket is finished."""
        self.tickets.append(self.cache.register(*families))

    def committed(self, patches: list[Patch]) -> None:
        """The (last registered) transaction committed: its entries may be patched in."""
        self.patches = list(patches)


@dataclass
class _Flight:
    done: threading.Event = field(default_factory=threading.Event)
    value: Any = None
    ok: bool = False


class Cache:
    def __init__(
        self,
        backend: Backend | None,
        *,
        breaker: CircuitBreaker | None = None,
        lock_ttl_ms: int = 5000,
        wait_s: float = 2.0,
        poll_s: float = 0.005,
        near: bool | NearCache = False,
    ) -> None:
        self.backend = backend
        # The near cache needs a backend that publishes its bumps to other processes.
        subscriber = getattr(backend, "subscriber", None)
        if isinstance(near, NearCache):
            self.near: NearCache | None = near
        elif near and subscriber is not None:
            self.near = NearCache(subscriber)
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
        self._writes = 0  # writes this process made: separates offline flights
        self._last_logged = -1e9

    # -- backend calls guarded by the breaker ------------------------------------------

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a backend call; BackendError when the breaker is open or the call fails."""
        if self.backend is None:
            raise BackendError("no backend")
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

    @property
    def enabled(self) -> bool:
        return self.backend is not None

    def get_or_load(self, key: CacheKey, policy: Policy, loader: Callable[[], T], type_: Any) -> T:
        if self.backend is None:
            return self._load(policy, loader)
        token = None
        if self.near is not None and self.near.covers(key.family):
            copy = self._near_get(key, policy, type_)
            if copy is not None:
                return copy[0]  # type: ignore[no-any-return]
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
            return value[0]
        self.stats.count(policy.name, "misses")
        return self._single_flight(key, policy, loader, type_, epoch, gen, token)

    def _near_get(self, key: CacheKey, policy: Policy, type_: Any) -> tuple[Any] | None:
        assert self.near is not None
        raw = self.near.get(key.family, key.text)
        if raw is None:
            return None
        found = _decode_copy(raw, type_)
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
        raw_epoch, raw_gen, raw = self._call(self.backend.read, names)  # type: ignore[union-attr]
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
                    self._call(self.backend.acquire, name, start, ttl_s * 1000)  # type: ignore[union-attr]
            raw_epoch, raw_gen, raw = self._call(self.backend.read, names)  # type: ignore[union-attr]
        try:
            epoch, gen = int(raw_epoch or 0), int(raw_gen or 0)
        except ValueError as exc:  # a foreign value in a counter: do not cache, do not crash
            raise BackendError(f"unreadable generation or epoch: {exc}") from exc
        found = _decode(raw, type_, epoch, gen)
        if found is not None:
            self._keep(key, raw, token)
        return epoch, gen, found

    def get_many(self, items: list[tuple[CacheKey, Policy, Callable[[], Any], Any]]) -> list[Any]:
        """Several get_or_load in one round trip to the backend (a screen's parts)."""
        if self.backend is None or len(items) < 2:
            return [self.get_or_load(*item) for item in items]
        tokens: list[tuple[int, int] | None] = [None] * len(items)
        if self.near is not None:
            near = self.near
            copies = []
            for key, policy, _, type_ in items:
                if not near.covers(key.family):
                    break
                copy = near.get(key.family, key.text)
                found = _decode_copy(copy, type_) if copy is not None else None
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
            raws = self._call(
                self.backend.read, [EPOCH_KEY, *gen_keys, *(key.text for key, *_ in items)]
            )
            counters = [int(raw) if raw is not None else None for raw in raws[: 1 + len(gen_keys)]]
        except (BackendError, ValueError):
            return [self.get_or_load(*item) for item in items]
        if None in counters:  # a counter to start: the one-key path knows how
            return [self.get_or_load(*item) for item in items]
        epoch, gens = counters[0], dict(zip(gen_keys, counters[1:], strict=True))
        results: list[Any] = []
        entries = zip(items, raws[1 + len(gen_keys) :], tokens, strict=True)
        for (key, policy, loader, type_), raw, token in entries:
            gen = gens[key.family.generation_key]
            found = _decode(raw, type_, epoch, gen)  # type: ignore[arg-type]
            if found is not None:
                self.stats.count(policy.name, "hits")
                self._keep(key, raw, token)
                results.append(found[0])
            else:
                self.stats.count(policy.name, "misses")
                results.append(
                    self._single_flight(key, policy, loader, type_, epoch, gen, token)  # type: ignore[arg-type]
                )
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
            flight_id = f"{key.text}#offline.{self._writes}"
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
                return flight.value  # type: ignore[no-any-return]
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
            locked = self._call(self.backend.acquire, lock_key, token, self.lock_ttl_ms)  # type: ignore[union-attr]
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
                    return found[0]  # type: ignore[no-any-return]
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
                return found[0]  # type: ignore[no-any-return]
            value = self._load(policy, loader)
            raw = _encoder.encode((epoch, gen, value, time.time() + policy.ttl_s))
            try:
                self._call(self.backend.write, key.text, raw, policy.ttl_s)  # type: ignore[union-attr]
            except BackendError:
                self.stats.count(policy.name, "errors")
            else:
                self._keep(key, raw, near_token)
            return value
        finally:
            with contextlib.suppress(BackendError):  # else the lock expires on its own
                self._call(self.backend.release, lock_key, token)  # type: ignore[union-attr]

    def _load(self, policy: Policy, loader: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return loader()
        finally:
            self.stats.count(policy.name, "loads")
            self.stats.count(policy.name, "load_seconds", time.perf_counter() - started)

    # -- writes ------------------------------------------------------------------------

    def versions(self, families: list[Family]) -> dict[str, int] | None:
        """The families' current generations (and the epoch): a cheap "anything new?"
        for live screens. None without a reachable backend."""
        if self.backend is None:
            return None
        names = [EPOCH_KEY, *(f.generation_key for f in families)]
        try:
            raws = self._call(self.backend.read, names)
            return {name: int(raw or 0) for name, raw in zip(names, raws, strict=True)}
        except (BackendError, ValueError):
            return None

    def retire_everything(self) -> None:
        """After data changed behind the app's back (a reseed, a restore): no entry from
        before is served again. If the backend is down, done once it is back."""
        if self.backend is None:
            return
        self._dirty = True
        if self.near is not None:
            self.near.clear()
        with contextlib.suppress(BackendError):
            self._call(self.backend.ping)

    def invalidate(self, *families: Family) -> None:
        """Call after the write's commit: entries of these families are no longer served."""
        if self.backend is None or not families:
            return
        self._writes += 1
        names = [f.generation_key for f in families]
        try:
            self._call(self.backend.bump, names)  # type: ignore[union-attr]
        except BackendError:
            self._dirty = True
            if self.near is not None:
                self.near.clear()
        else:
            # Synchronous in this process; other processes follow on the bump's message.
            if self.near is not None:
                self.near.drop(names)

    def register(self, *families: Family) -> WriteTicket:
        """Announce a write on these families, inside its database transaction just before
        the commit (after its last statement). Always followed by finish_write(), commit or
        not. Never raises: without a backend that can patch, finish_write() only bumps."""
        ticket = WriteTicket(tuple(dict.fromkeys(families)), secrets.token_hex(8))
        register = getattr(self.backend, "register", None)
        if register is None or not ticket.families:
            return ticket
        names = [(f.generation_key, f.writing_key) for f in ticket.families]
        # While another write is between its register() and finish_write() on one of the
        # families, neither could patch: wait for it a little (it is past its last
        # statement, so it needs none of our row locks), then register anyway.
        deadline = time.monotonic() + REGISTER_WAIT_S
        try:
            while True:
                force = time.monotonic() >= deadline
                gens = self._call(
                    functools.partial(register, force=force), names, ticket.token, WRITE_LEASE_MS
                )
                if all(g is not None for g in gens):
                    break
                if any(g is not None for g in gens):
                    self._call(self.backend.unregister, [k for _, k in names], ticket.token)  # type: ignore[union-attr]
                time.sleep(REGISTER_POLL_S)
        except BackendError:
            return ticket
        ticket.generations = {
            f.generation_key: int(g) for f, g in zip(ticket.families, gens, strict=True)
        }
        return ticket

    @contextlib.contextmanager
    def writing(self) -> Iterator[PendingWrite]:
        """Around a write in app/domain: whatever happens (commit, rollback, an error),
        every family it registered gets its new generation afterwards, and the committed
        transaction's patches are stored when exact (finish_write)."""
        pending = PendingWrite(self)
        try:
            yield pending
        finally:
            last = len(pending.tickets) - 1
            for i, ticket in enumerate(pending.tickets):
                self.finish_write(ticket, pending.patches if i == last else ())

    def finish_write(
        self, ticket: WriteTicket, patches: list[Patch] | tuple[Patch, ...] = ()
    ) -> None:
        """After the commit (or after a failed one): every family of the ticket gets a new
        generation, as invalidate() does, and the patched entries are stored under it.

        Why a patched entry equals a fresh load: the Redis script (backends._FINISH) stores
        them only if (1) this write's lease was still held, (2) the family's generation is
        the one read at register(), (3) no other write is registered on the family, and
        (4) each entry a patch started from is still in Redis unchanged. Every write
        through app/domain registers its families before its commit and bumps them after
        it, so by (1)-(3) no other write committed on the family between register() and
        now except ones that had already bumped before register(); an entry of the
        generation read there was loaded after all of those, so it holds the state from
        before this write, or (a load that ran after our commit) from after it; `update`
        gives the same result for both. A whole `value` was read in this write's
        transaction, so it is the state at our commit, which by (1)-(3) no other write has
        changed since. The new generation is published in the same script, so other
        processes drop their near copies as for any bump, and then read the patched entry.
        Writes that change data outside app/domain (a reseed, SQL by hand) do not register:
        as before, the TTL bounds them, and a patched entry keeps its base's expiry.
        """
        if ticket.done:
            return
        ticket.done = True
        if ticket.generations is None or self.backend is None:
            self.invalidate(*ticket.families)
            return
        self._writes += 1
        gens = ticket.generations
        entries: dict[str, list[tuple[str, bytes, bytes, int]]] = {name: [] for name in gens}
        usable = [p for p in patches if p.key.family.generation_key in gens]
        policies: dict[str, list[str]] = {name: [] for name in gens}
        if usable:
            with contextlib.suppress(BackendError):
                for name, entry, policy in self._patched(ticket, usable):
                    entries[name].append(entry)
                    policies[name].append(policy.name)
        finishing = [
            (f.generation_key, f.writing_key, gens[f.generation_key], entries[f.generation_key])
            for f in ticket.families
        ]
        try:
            stored = self._call(self.backend.finish, finishing, ticket.token)  # type: ignore[attr-defined]
        except BackendError:
            self._dirty = True
            if self.near is not None:
                self.near.clear()
            return
        if self.near is not None:
            self.near.drop(list(gens))
        for (name, *_), ok in zip(finishing, stored, strict=True):
            for policy_name in policies[name]:
                self.stats.count(policy_name, "patched" if ok else "patch_refused")

    def _patched(
        self, ticket: WriteTicket, patches: list[Patch]
    ) -> list[tuple[str, tuple[str, bytes, bytes, int], Policy]]:
        """The new entries: (generation key, (key, expected bytes, new bytes, ttl ms))."""
        assert ticket.generations is not None
        gen_names = list(dict.fromkeys(p.key.family.generation_key for p in patches))
        based = [p for p in patches if p.update is not None]
        raws = self._call(
            self.backend.read,  # type: ignore[union-attr]
            [EPOCH_KEY, *gen_names, *(p.key.text for p in based)],
        )
        if raws[0] is None:
            return []
        epoch = int(raws[0])
        current = dict(zip(gen_names, raws[1 : 1 + len(gen_names)], strict=True))
        bases = dict(zip((p.key.text for p in based), raws[1 + len(gen_names) :], strict=True))
        out = []
        for p in patches:
            name = p.key.family.generation_key
            gen = ticket.generations[name]
            if current[name] is None or int(current[name]) != gen:
                continue  # another write bumped meanwhile: the finish only bumps
            expected = b""
            try:
                if p.update is None:
                    value, expires_at = p.value, time.time() + p.policy.ttl_s
                else:
                    raw = bases[p.key.text]
                    if raw is None:
                        continue
                    entry_epoch, entry_gen, old, expires_at = _decoder(p.type_).decode(raw)
                    if (entry_epoch, entry_gen) != (epoch, gen):
                        continue
                    value = p.update(old)
                    if value is None:
                        continue
                    expected = raw
                ttl_s = expires_at - time.time()
                if ttl_s < MIN_PATCH_TTL_S:
                    continue
                new = _encoder.encode((epoch, gen + 1, value, expires_at))
            except Exception:  # a patch must never fail the write: drop that entry
                log.exception("cache patch of %s failed; the entry is dropped", p.key.text)
                continue
            out.append((name, (p.key.text, expected, new, int(ttl_s * 1000)), p.policy))
        return out

    def close(self) -> None:
        """Stop the near cache's subscriber (the backend's pool is left as it is)."""
        if self.near is not None:
            self.near.close()
