"""One declaration per cached read: where its entries live, how long, and what they hold.

A `CachedRead` names the family whose generation invalidates it (a shared family, or a
member's: a function of the member's id), its TTL policy, the type its entries decode to,
and the first part of its key when the family holds several reads. The domain declares each
read once (app/domain/cached_reads.py); its query reads through it and a write's patches
name their entries through it, so the key is never spelled twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from app.cache.keys import CacheKey, Family
from app.cache.nocache import NoCache
from app.cache.policy import Policy
from app.cache.readthrough import Cache
from app.cache.writes import Patch

T = TypeVar("T")


# Not slots=True: CachedRead[X](...) sets __orig_class__ on the instance.
@dataclass(frozen=True)
class CachedRead(Generic[T]):
    family: Family | Callable[[int], Family]
    policy: Policy
    type_: Any  # what msgspec decodes an entry to: a view class, list[View], View | None
    name: str = ""

    def _family(self, owner: int | None) -> Family:
        if isinstance(self.family, Family):
            return self.family
        if owner is None:
            raise TypeError(f"a member's read ({self.policy.name}) needs owner=<member id>")
        return self.family(owner)

    def key(self, *parts: object, owner: int | None = None) -> CacheKey:
        head = (self.name,) if self.name else ()
        return self._family(owner).key(*head, *parts)

    def read(
        self,
        cache: Cache | NoCache,
        load: Callable[[], T],
        *parts: object,
        owner: int | None = None,
    ) -> T:
        """The entry for these key parts, or `load()` stored under the family's generation."""
        value: T = cache.get_or_load(self.key(*parts, owner=owner), self.policy, load, self.type_)
        return value

    def item(
        self, load: Callable[[], T], *parts: object, owner: int | None = None
    ) -> tuple[CacheKey, Policy, Callable[[], T], Any]:
        """One read of several fetched in one round trip (Cache.get_many)."""
        return (self.key(*parts, owner=owner), self.policy, load, self.type_)

    def patch(
        self,
        *parts: object,
        owner: int | None = None,
        update: Callable[[T], T | None] | None = None,
        value: T | None = None,
    ) -> Patch:
        """This entry as a write leaves it (Cache.finish_write): `update` from its old value,
        or its whole new `value`."""
        return Patch(self.key(*parts, owner=owner), self.policy, self.type_, update, value)
