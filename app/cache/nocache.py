"""The cache turned off: what a Database without one talks to (tests' fresh reads, the
benchmarks' uncached side). Every read loads; a write has nothing to invalidate."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

from app.cache.keys import CacheKey, Family
from app.cache.metrics import CacheStats
from app.cache.near import NearCache
from app.cache.policy import Policy
from app.cache.writes import Patch, PendingWrite, WriteTicket, writing

T = TypeVar("T")


class NoCache:
    """Cache's interface, without a backend."""

    enabled = False
    near: NearCache | None = None

    def __init__(self) -> None:
        self.stats = CacheStats()

    def get_or_load(self, key: CacheKey, policy: Policy, loader: Callable[[], T], type_: Any) -> T:
        return self.stats.timed_load(policy.name, loader)

    def get_many(self, items: list[tuple[CacheKey, Policy, Callable[[], Any], Any]]) -> list[Any]:
        return [self.get_or_load(*item) for item in items]

    def versions(self, families: list[Family]) -> dict[str, int] | None:
        return None

    def retire_everything(self) -> None:
        return None

    def invalidate(self, *families: Family) -> None:
        return None

    def register(self, *families: Family) -> WriteTicket:
        return WriteTicket(tuple(families), token="")

    def writing(self) -> contextlib.AbstractContextManager[PendingWrite]:
        return writing(self)

    def finish_write(
        self, ticket: WriteTicket, patches: list[Patch] | tuple[Patch, ...] = ()
    ) -> None:
        ticket.done = True

    def close(self) -> None:
        return None
