"""What changed, as every process learns it: the generation bumps, read as families.

Every write in app/domain bumps the generation counters of the families it changed, after
its commit, and every bump is published on INVAL_CHANNEL in the same Redis script
(backends.py). So one subscription per process hears every write of every process and
instance, with no second message for the writers to send or forget. On the in-process
backend (no Redis: one process) the backend calls its listeners itself.

`Changes` is what a batch of messages amounts to: the shared families that changed, the
members whose own data changed, or everything (the epoch, or a subscription that was lost
and may have missed messages).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import redis.asyncio as aioredis

from app.cache.keys import EPOCH_KEY, INVAL_CHANNEL
from app.cache.policy import NAMESPACE

log = logging.getLogger(__name__)

_PREFIX = f"{NAMESPACE}:{{"
_MEMBER_TAG = "u:"


@dataclass
class Changes:
    shared: set[str] = field(default_factory=set)  # family tags: "feed", "market", ...
    members: set[int] = field(default_factory=set)  # members whose own families changed
    everything: bool = False
    # The newest generation heard per counter key, when the message carried it (Redis):
    # who loaded under that generation already has the change.
    generations: dict[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.everything or bool(self.shared or self.members)

    def add_key(self, generation_key: str) -> None:
        """One bumped counter key ("ma:v3:{feed}:gen", "ma:v3:{u:7}:profile:gen", epoch)."""
        if generation_key == EPOCH_KEY:
            self.everything = True
            return
        if not generation_key.startswith(_PREFIX) or "}" not in generation_key:
            return
        tag = generation_key[len(_PREFIX) : generation_key.index("}")]
        if tag.startswith(_MEMBER_TAG):
            with contextlib.suppress(ValueError):
                self.members.add(int(tag[len(_MEMBER_TAG) :]))
        else:
            self.shared.add(tag)

    def add_message(self, message: bytes | str) -> None:
        """One published bump, "<counter key>=<new value>"."""
        text = message.decode() if isinstance(message, bytes) else message
        key, _, value = text.rpartition("=")
        if not key:
            self.add_key(text)
            return
        self.add_key(key)
        with contextlib.suppress(ValueError):
            self.generations[key] = int(value)

    def merge(self, other: Changes) -> None:
        self.shared |= other.shared
        self.members |= other.members
        self.everything = self.everything or other.everything
        self.generations.update(other.generations)  # Redis delivers a channel in order

    def touches(self, tags: Iterable[str]) -> bool:
        return self.everything or not self.shared.isdisjoint(tags)


Listener = Callable[[Changes], None]


async def listen_redis(url: str, on_changes: Listener, *, retry_s: float = 1.0) -> None:
    """Call `on_changes` for every bump published in Redis, until cancelled.

    After a (re)subscription, and whenever the connection is lost, `everything` is reported:
    messages published while nobody listened are gone, so whoever keeps copies must take
    them all again.
    """
    while True:
        client = aioredis.Redis.from_url(url)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(INVAL_CHANNEL)
            on_changes(Changes(everything=True))
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                batch = Changes()
                batch.add_message(message["data"])
                on_changes(batch)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Redis down or restarted: try again, then resync
            log.warning("change subscription lost (%s); retrying", exc)
            on_changes(Changes(everything=True))
            await asyncio.sleep(retry_s)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
            with contextlib.suppress(Exception):
                await client.aclose()
