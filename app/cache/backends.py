"""Where cached bytes live: Redis, or an in-process dict with the same semantics.

Every Redis call has a short timeout and no retries: the read-through cache would rather
go to the database than make a request wait on a sick Redis.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import redis
import redis.client
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.cache.keys import INVAL_CHANNEL

# Generation counters outlive every entry that depends on them (entries live <= 5 min).
GENERATION_TTL_S = 24 * 3600

# Bump a counter; a missing one (fresh Redis, eviction) starts at a random value, never at
# 1 again, so an entry stored under an old counter value cannot match a restarted one.
# The same script publishes the new value, so no bump is ever without its message (the near
# caches of all processes listen, app/cache/near.py).
_BUMP = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
local value = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], KEYS[1] .. '=' .. value)
return value
"""
# A write that may patch cached entries (readthrough.Cache.register) announces itself, inside
# its database transaction before the commit: a lease in the family's set of active writes
# (Redis server time, so the clocks of app hosts do not matter), and the family's generation
# as it is now. A missing generation starts at a random value, like _BUMP. Unless ARGV[5] is
# 1 (force), only when no other write is active on the family: else nil, and the writer
# tries again a moment later (two writes in flight at once spoil each other's patches).
_REGISTER = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if ARGV[5] ~= '1' and redis.call('ZSCORE', KEYS[2], ARGV[1]) == false
   and redis.call('ZCARD', KEYS[2]) > 0 then
  return false
end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], 2 * tonumber(ARGV[2]))
redis.call('SET', KEYS[1], ARGV[3], 'NX', 'EX', ARGV[4])
return redis.call('GET', KEYS[1])
"""
# After the commit: end the lease and bump the generation (published, as _BUMP). The new
# entries are stored under the new generation only if the patch is known to be exact: the
# lease was still held, the generation is the one read at registration, no other write is
# active on the family, and every entry the patch started from is still there unchanged.
# ARGV: token, generation at registration, random start, generation TTL, channel, then per
# entry (KEYS[3..]): expected bytes ('' = the value does not depend on the old entry), new
# bytes, time to live in ms.
_FINISH = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local held = redis.call('ZREM', KEYS[2], ARGV[1]) == 1
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local exact = held and redis.call('GET', KEYS[1]) == ARGV[2]
  and redis.call('ZCARD', KEYS[2]) == 0
if exact then
  for i = 3, #KEYS do
    local expected = ARGV[6 + (i - 3) * 3]
    if expected ~= '' and redis.call('GET', KEYS[i]) ~= expected then
      exact = false
      break
    end
  end
end
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[3]) end
local value = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[5], KEYS[1] .. '=' .. value)
if exact then
  for i = 3, #KEYS do
    local base = 6 + (i - 3) * 3
    redis.call('SET', KEYS[i], ARGV[base + 1], 'PX', ARGV[base + 2])
  end
  return 1
end
return 0
"""
_CAS_DELETE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_LIMITED_HSET = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0
   and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then
  return -1
end
return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
"""


class BackendError(Exception):
    """The backend could not answer (down, slow, or refused)."""


class Backend(Protocol):
    name: str

    def read(self, keys: list[str]) -> list[bytes | None]: ...
    def write(self, key: str, value: bytes, ttl_s: float) -> None: ...
    def bump(self, keys: list[str], ttl_s: int = GENERATION_TTL_S) -> None: ...
    def incr(self, key: str, ttl_s: int = GENERATION_TTL_S) -> int: ...
    def acquire(self, key: str, token: str, ttl_ms: int) -> bool: ...
    def release(self, key: str, token: str) -> None: ...
    # A write that patches cached entries (app/cache/writes.py): see _REGISTER and _FINISH.
    def register(
        self,
        keys: list[tuple[str, str]],
        token: str,
        lease_ms: int,
        *,
        force: bool,
        ttl_s: int = GENERATION_TTL_S,
    ) -> list[int | None]: ...
    def unregister(self, active_keys: list[str], token: str) -> None: ...
    def finish(
        self,
        families: list[tuple[str, str, int, list[tuple[str, bytes, bytes, int]]]],
        token: str,
        ttl_s: int = GENERATION_TTL_S,
    ) -> list[bool]: ...
    # The per-user store: one hash per member.
    def hget_many(self, key: str, fields: list[str]) -> list[bytes | None]: ...
    def hset_limited(self, key: str, field: str, value: bytes, max_fields: int) -> bool: ...
    def hdel(self, key: str, fields: list[str]) -> int: ...
    def hkeys(self, key: str) -> list[str]: ...
    def delete(self, key: str) -> None: ...
    def ping(self) -> None: ...


class RedisBackend:
    name = "redis"

    def __init__(self, url: str, *, timeout_s: float = 0.25) -> None:
        # A blocking pool: when all connections are busy (a stampede of misses), a call
        # waits up to `timeout_s` for one instead of failing at once with "Too many
        # connections", which would bypass single flight and trip the breaker.
        pool = redis.BlockingConnectionPool.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),
            retry_on_timeout=False,
            max_connections=64,
            # Waiting for a free connection is normal in a stampede; a dead Redis fails
            # fast on the socket timeouts above and the breaker, not here.
            timeout=max(1.0, timeout_s),
        )
        self.client = redis.Redis(connection_pool=pool)
        self.url = url
        self.timeout_s = timeout_s
        self._bump = self.client.register_script(_BUMP)
        self._cas_delete = self.client.register_script(_CAS_DELETE)
        self._register = self.client.register_script(_REGISTER)
        self._finish = self.client.register_script(_FINISH)
        self._limited_hset = self.client.register_script(_LIMITED_HSET)

    def _run(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # Any: redis-py types its sync client's replies as sync-or-async (one stub for
        # both); each caller says what the reply is.
        try:
            return fn(*args, **kwargs)
        except (redis.RedisError, OSError) as exc:
            raise BackendError(f"{type(exc).__name__}: {exc}") from exc

    def read(self, keys: list[str]) -> list[bytes | None]:
        # One MGET: a single command is the cheapest round trip redis-py makes (a pipeline
        # costs a third more here). A key holding another type reads as nil with MGET, so
        # it is a miss that the next load overwrites.
        values: list[bytes | None] = self._run(self.client.mget, keys)
        return values

    def write(self, key: str, value: bytes, ttl_s: float) -> None:
        self._run(self.client.set, key, value, px=max(1, int(ttl_s * 1000)))

    def bump(self, keys: list[str], ttl_s: int = GENERATION_TTL_S) -> None:
        def go() -> None:
            pipe = self.client.pipeline(transaction=False)
            for key in keys:
                args: list[str | int] = [secrets.randbits(48), ttl_s, INVAL_CHANNEL]
                self._bump(keys=[key], args=args, client=pipe)
            pipe.execute()

        self._run(go)

    def incr(self, key: str, ttl_s: int = GENERATION_TTL_S) -> int:
        args = [secrets.randbits(48), ttl_s, INVAL_CHANNEL]
        return int(self._run(self._bump, keys=[key], args=args))

    def register(
        self,
        keys: list[tuple[str, str]],
        token: str,
        lease_ms: int,
        *,
        force: bool,
        ttl_s: int = GENERATION_TTL_S,
    ) -> list[int | None]:
        """Announce a write on families given as (generation key, active-writes key); their
        generations as they are now, or None for a family where another write is active
        (unless `force`). One round trip."""

        def go() -> list[int | None]:
            pipe = self.client.pipeline(transaction=False)
            for gen_key, active_key in keys:
                args: list[str | int] = [
                    token,
                    lease_ms,
                    secrets.randbits(48),
                    ttl_s,
                    1 if force else 0,
                ]
                self._register(keys=[gen_key, active_key], args=args, client=pipe)
            return [None if v is None else int(v) for v in pipe.execute()]

        generations: list[int | None] = self._run(go)
        return generations

    def unregister(self, active_keys: list[str], token: str) -> None:
        """Withdraw a registration that was not used (no bump: nothing was written)."""

        def go() -> None:
            pipe = self.client.pipeline(transaction=False)
            for key in active_keys:
                pipe.zrem(key, token)
            pipe.execute()

        self._run(go)

    def finish(
        self,
        families: list[tuple[str, str, int, list[tuple[str, bytes, bytes, int]]]],
        token: str,
        ttl_s: int = GENERATION_TTL_S,
    ) -> list[bool]:
        """End a registered write: bump each family (gen key, active key, generation at
        registration, entries) and store its entries (key, expected or b"", new, ttl ms)
        only where the patch is known to be exact (see _FINISH). One round trip."""

        def go() -> list[bool]:
            pipe = self.client.pipeline(transaction=False)
            for gen_key, active_key, gen, entries in families:
                args: list[Any] = [token, gen, secrets.randbits(48), ttl_s, INVAL_CHANNEL]
                for _, expected, new, ttl_ms in entries:
                    args += [expected, new, max(1, int(ttl_ms))]
                names = [gen_key, active_key, *(key for key, *_ in entries)]
                self._finish(keys=names, args=args, client=pipe)
            return [bool(v) for v in pipe.execute()]

        stored: list[bool] = self._run(go)
        return stored

    def subscriber(self) -> redis.client.PubSub:
        """A PubSub on a connection of its own (not from the pool), for the near cache."""
        client = redis.Redis.from_url(
            self.url,
            socket_timeout=max(2.0, self.timeout_s),
            socket_connect_timeout=self.timeout_s,
            retry=Retry(NoBackoff(), 0),
        )
        pubsub: redis.client.PubSub = client.pubsub()
        return pubsub

    def acquire(self, key: str, token: str, ttl_ms: int) -> bool:
        return bool(self._run(self.client.set, key, token, nx=True, px=ttl_ms))

    def release(self, key: str, token: str) -> None:
        self._run(self._cas_delete, keys=[key], args=[token])

    def hget_many(self, key: str, fields: list[str]) -> list[bytes | None]:
        if not fields:
            return []
        values: list[bytes | None] = self._run(self.client.hmget, key, fields)
        return values

    def hset_limited(self, key: str, field: str, value: bytes, max_fields: int) -> bool:
        return int(self._run(self._limited_hset, keys=[key], args=[field, value, max_fields])) >= 0

    def hdel(self, key: str, fields: list[str]) -> int:
        if not fields:
            return 0
        return int(self._run(self.client.hdel, key, *fields))

    def hkeys(self, key: str) -> list[str]:
        return [k.decode() for k in self._run(self.client.hkeys, key)]

    def delete(self, key: str) -> None:
        self._run(self.client.delete, key)

    def ping(self) -> None:
        self._run(self.client.ping)


class MemoryBackend:
    """In-process, for `make run` without Redis: same semantics, one process only."""

    name = "memory"

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._values: dict[str, tuple[bytes, float]] = {}
        self._hashes: dict[str, dict[str, bytes]] = {}
        # A family's active writes: token -> lease end (clock seconds), as _REGISTER's zset.
        self._leases: dict[str, dict[str, float]] = {}
        # Told the counter keys of every bump, after it (what Redis publishes on INVAL_CHANNEL;
        # the live pushes of state/live.py listen here when there is no Redis).
        self.listeners: list[Callable[[list[str]], None]] = []

    def _get(self, key: str) -> bytes | None:
        item = self._values.get(key)
        if item is None:
            return None
        if item[1] <= self._clock():
            del self._values[key]
            return None
        return item[0]

    def read(self, keys: list[str]) -> list[bytes | None]:
        with self._lock:
            return [self._get(k) for k in keys]

    def write(self, key: str, value: bytes, ttl_s: float) -> None:
        with self._lock:
            self._values[key] = (value, self._clock() + ttl_s)
            if len(self._values) > 50_000:  # bound memory: drop expired entries
                now = self._clock()
                self._values = {k: v for k, v in self._values.items() if v[1] > now}

    def bump(self, keys: list[str], ttl_s: int = GENERATION_TTL_S) -> None:
        with self._lock:
            for key in keys:
                current = self._get(key)
                start = int(current) if current is not None else secrets.randbits(48)
                self._values[key] = (str(start + 1).encode(), self._clock() + ttl_s)
        for listener in list(self.listeners):
            listener(keys)

    def incr(self, key: str, ttl_s: int = GENERATION_TTL_S) -> int:
        self.bump([key], ttl_s)
        with self._lock:
            return int(self._get(key) or 0)

    def _active(self, key: str) -> dict[str, float]:
        now = self._clock()
        leases = self._leases.setdefault(key, {})
        for token in [t for t, until in leases.items() if until <= now]:
            del leases[token]
        return leases

    def _counter(self, key: str, ttl_s: int) -> int:
        current = self._get(key)
        if current is None:
            current = str(secrets.randbits(48)).encode()
            self._values[key] = (current, self._clock() + ttl_s)
        return int(current)

    def register(
        self,
        keys: list[tuple[str, str]],
        token: str,
        lease_ms: int,
        *,
        force: bool,
        ttl_s: int = GENERATION_TTL_S,
    ) -> list[int | None]:
        """As _REGISTER does in Redis, one family after another."""
        out: list[int | None] = []
        with self._lock:
            for gen_key, active_key in keys:
                leases = self._active(active_key)
                if not force and token not in leases and leases:
                    out.append(None)
                    continue
                leases[token] = self._clock() + lease_ms / 1000
                out.append(self._counter(gen_key, ttl_s))
        return out

    def unregister(self, active_keys: list[str], token: str) -> None:
        with self._lock:
            for key in active_keys:
                self._leases.get(key, {}).pop(token, None)

    def finish(
        self,
        families: list[tuple[str, str, int, list[tuple[str, bytes, bytes, int]]]],
        token: str,
        ttl_s: int = GENERATION_TTL_S,
    ) -> list[bool]:
        """As _FINISH does in Redis: end the lease, bump, store the entries if exact."""
        out: list[bool] = []
        with self._lock:
            for gen_key, active_key, gen, entries in families:
                held = self._leases.get(active_key, {}).pop(token, None) is not None
                leases = self._active(active_key)
                current = self._get(gen_key)
                exact = held and current is not None and int(current) == gen and not leases
                exact = exact and all(
                    expected == b"" or self._get(key) == expected for key, expected, _, _ in entries
                )
                bumped = self._counter(gen_key, ttl_s) + 1
                self._values[gen_key] = (str(bumped).encode(), self._clock() + ttl_s)
                if exact:
                    for key, _, new, ttl_ms in entries:
                        self._values[key] = (new, self._clock() + max(1, ttl_ms) / 1000)
                out.append(exact)
        for listener in list(self.listeners):
            listener([gen_key for gen_key, *_ in families])
        return out

    def acquire(self, key: str, token: str, ttl_ms: int) -> bool:
        with self._lock:
            if self._get(key) is not None:
                return False
            self._values[key] = (token.encode(), self._clock() + ttl_ms / 1000)
            return True

    def release(self, key: str, token: str) -> None:
        with self._lock:
            if self._get(key) == token.encode():
                del self._values[key]

    def hget_many(self, key: str, fields: list[str]) -> list[bytes | None]:
        with self._lock:
            data = self._hashes.get(key, {})
            return [data.get(f) for f in fields]

    def hset_limited(self, key: str, field: str, value: bytes, max_fields: int) -> bool:
        with self._lock:
            data = self._hashes.setdefault(key, {})
            if field not in data and len(data) >= max_fields:
                return False
            data[field] = value
            return True

    def hdel(self, key: str, fields: list[str]) -> int:
        with self._lock:
            data = self._hashes.get(key, {})
            return sum(data.pop(f, None) is not None for f in fields)

    def hkeys(self, key: str) -> list[str]:
        with self._lock:
            return list(self._hashes.get(key, {}))

    def delete(self, key: str) -> None:
        with self._lock:
            self._hashes.pop(key, None)
            self._values.pop(key, None)

    def ping(self) -> None:
        return None
