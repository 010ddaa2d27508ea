"""Key layout. Every entry belongs to one family whose generation counter invalidates it.

Shared families use a hash tag of their own ({feed}, {leaderboard}, ...); a member's keys use
{u:<id>}, so a family's generation and its entries live in one Redis Cluster slot.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.cache.policy import NAMESPACE

EPOCH_KEY = f"{NAMESPACE}:epoch"
# Every generation or epoch bump publishes "<counter key>=<value>" here (app/cache/near.py).
INVAL_CHANNEL = f"{NAMESPACE}:invalidated"


@dataclass(frozen=True, slots=True)
class Family:
    tag: str  # the hash tag without braces: "feed", "u:123"
    name: str = ""  # several families may share a tag (a member's profile, history, ...)

    @property
    def prefix(self) -> str:
        head = f"{NAMESPACE}:{{{self.tag}}}"
        return f"{head}:{self.name}" if self.name else head

    @property
    def generation_key(self) -> str:
        return f"{self.prefix}:gen"

    @property
    def writing_key(self) -> str:
        """The family's active writes that may patch its entries (Cache.register)."""
        return f"{self.prefix}:writing"

    def key(self, *parts: object) -> CacheKey:
        suffix = ":".join(str(p) for p in parts)
        return CacheKey(self, f"{self.prefix}:{suffix}")


@dataclass(frozen=True, slots=True)
class CacheKey:
    family: Family
    text: str


FEED = Family("feed")
LEADERBOARD = Family("leaderboard")
MARKET = Family("market")
BANNERS = Family("banners")


# A member's data in three families, so a write invalidates only what it changed:
# a transfer touches balances and histories, not purchases.
def profile(user_id: int) -> Family:
    return Family(f"u:{int(user_id)}", "profile")


def history(user_id: int) -> Family:
    return Family(f"u:{int(user_id)}", "history")


def purchases(user_id: int) -> Family:
    return Family(f"u:{int(user_id)}", "purchases")


def member_store_key(user_id: int) -> str:
    """The per-user key/value store behind /cache: one Redis hash per member."""
    return f"{NAMESPACE}:{{u:{int(user_id)}}}:kv"


def app_store_key(user_id: int) -> str:
    """What the app itself keeps per member (the last screen): a hash of its own, so it
    never counts against the member's quota nor shows in their /cache keys."""
    return f"{NAMESPACE}:{{u:{int(user_id)}}}:app"
