"""Write coordination: how a write hands the cache the new values of what it changed.

A write registers its families inside its transaction, just before the commit
(`Writes.register`), and finishes after it, whatever happened (`Writes.finish`): every
family gets a new generation, and the entries the write knows the new value of (its
`Patch`es) are stored under it in the same Redis script, only when that is exactly what a
load would now return. `writing()` is that protocol around one write in app/domain.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from app.cache import codec
from app.cache.backends import BackendError
from app.cache.keys import EPOCH_KEY, CacheKey, Family
from app.cache.policy import Policy

if TYPE_CHECKING:
    from app.cache.readthrough import Cache

# How long a registered write may take from register() to finish() before its lease lapses
# (its finish then only bumps). Far beyond any write's transaction; a crashed writer only
# stops patching of its families for this long, never makes it unsafe.
WRITE_LEASE_MS = 120_000
REGISTER_WAIT_S = 0.025  # how long a write waits for another one's finish before register
REGISTER_POLL_S = 0.001
MIN_PATCH_TTL_S = 0.1  # an entry this close to its expiry is not worth patching
log = logging.getLogger(__name__)


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


class Writer(Protocol):
    """What a write talks to: the cache, or the cache turned off (nocache.NoCache)."""

    def register(self, *families: Family) -> WriteTicket: ...
    def finish_write(
        self, ticket: WriteTicket, patches: list[Patch] | tuple[Patch, ...] = ()
    ) -> None: ...


@dataclass
class PendingWrite:
    """One write's business with the cache, from inside its transaction to after it (see
    writing()): what it registered, and what it may patch in once committed."""

    cache: Writer
    tickets: list[WriteTicket] = field(default_factory=list)
    patches: list[Patch] = field(default_factory=list)

    def register(self, *families: Family) -> None:
        """Inside the transaction, after its last statement (Cache.register). A retried
        transaction registers again; every ticket is finished."""
        self.tickets.append(self.cache.register(*families))

    def committed(self, patches: list[Patch]) -> None:
        """The (last registered) transaction committed: its entries may be patched in."""
        self.patches = list(patches)


@contextlib.contextmanager
def writing(cache: Writer) -> Iterator[PendingWrite]:
    """Around a write in app/domain: whatever happens (commit, rollback, an error), every
    family it registered gets its new generation afterwards, and the committed
    transaction's patches are stored when exact (Writes.finish)."""
    pending = PendingWrite(cache)
    try:
        yield pending
    finally:
        last = len(pending.tickets) - 1
        for i, ticket in enumerate(pending.tickets):
            cache.finish_write(ticket, pending.patches if i == last else ())


class Writes:
    """The write side of one Cache (its backend calls go through the cache's breaker)."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def register(self, *families: Family) -> WriteTicket:
        """Announce a write on these families, inside its database transaction just before
        the commit (after its last statement). Always followed by finish(), commit or not.
        Never raises: with the backend down, finish() only bumps."""
        cache = self.cache
        ticket = WriteTicket(tuple(dict.fromkeys(families)), secrets.token_hex(8))
        if not ticket.families:
            return ticket
        backend = cache.backend
        names = [(f.generation_key, f.writing_key) for f in ticket.families]
        # While another write is between its register() and finish() on one of the
        # families, neither could patch: wait for it a little (it is past its last
        # statement, so it needs none of our row locks), then register anyway.
        deadline = time.monotonic() + REGISTER_WAIT_S
        try:
            while True:
                force = time.monotonic() >= deadline
                gens = cache.call(
                    functools.partial(backend.register, force=force),
                    names,
                    ticket.token,
                    WRITE_LEASE_MS,
                )
                if all(g is not None for g in gens):
                    break
                if any(g is not None for g in gens):
                    cache.call(backend.unregister, [k for _, k in names], ticket.token)
                time.sleep(REGISTER_POLL_S)
        except BackendError:
            return ticket
        ticket.generations = {
            f.generation_key: g for f, g in zip(ticket.families, gens, strict=True) if g is not None
        }
        return ticket

    def finish(self, ticket: WriteTicket, patches: list[Patch] | tuple[Patch, ...] = ()) -> None:
        """After the commit (or after a failed one): every family of the ticket gets a new
        generation, as Cache.invalidate() does, and the patched entries are stored under it.

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
        cache = self.cache
        if ticket.generations is None:
            cache.invalidate(*ticket.families)
            return
        cache.writes_made += 1
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
        backend = cache.backend
        try:
            stored = cache.call(backend.finish, finishing, ticket.token)
        except BackendError:
            cache.lost_invalidation()
            return
        if cache.near is not None:
            cache.near.drop(list(gens))
        for (name, *_), ok in zip(finishing, stored, strict=True):
            for policy_name in policies[name]:
                cache.stats.count(policy_name, "patched" if ok else "patch_refused")

    def _patched(
        self, ticket: WriteTicket, patches: list[Patch]
    ) -> list[tuple[str, tuple[str, bytes, bytes, int], Policy]]:
        """The new entries: (generation key, (key, expected bytes, new bytes, ttl ms))."""
        assert ticket.generations is not None
        gen_names = list(dict.fromkeys(p.key.family.generation_key for p in patches))
        based = [p for p in patches if p.update is not None]
        backend = self.cache.backend
        raws = self.cache.call(backend.read, [EPOCH_KEY, *gen_names, *(p.key.text for p in based)])
        if raws[0] is None:
            return []
        epoch = int(raws[0])
        current = dict(zip(gen_names, raws[1 : 1 + len(gen_names)], strict=True))
        bases = dict(zip((p.key.text for p in based), raws[1 + len(gen_names) :], strict=True))
        out = []
        for p in patches:
            name = p.key.family.generation_key
            gen = ticket.generations[name]
            now_gen = current[name]
            if now_gen is None or int(now_gen) != gen:
                continue  # another write bumped meanwhile: the finish only bumps
            expected = b""
            try:
                if p.update is None:
                    value, expires_at = p.value, time.time() + p.policy.ttl_s
                else:
                    raw = bases[p.key.text]
                    entry = codec.decode_entry(raw, p.type_) if raw is not None else None
                    if entry is None or entry[:2] != (epoch, gen):
                        continue
                    value = p.update(entry[2])
                    if value is None:
                        continue
                    expires_at = entry[3]
                    expected = raw or b""
                ttl_s = expires_at - time.time()
                if ttl_s < MIN_PATCH_TTL_S:
                    continue
                new = codec.encode(epoch, gen + 1, value, expires_at)
            except Exception:  # a patch must never fail the write: drop that entry
                log.exception("cache patch of %s failed; the entry is dropped", p.key.text)
                continue
            out.append((name, (p.key.text, expected, new, int(ttl_s * 1000)), p.policy))
        return out
