"""The TTL policy table: how long each kind of cached result may be served.

The TTL is only the upper bound on staleness for changes made outside the app; every write
through app/domain invalidates what it changed at once.
"""

from __future__ import annotations

from dataclasses import dataclass

# Part of every key: bump it when a cached shape (app/domain/views.py) changes, so a deploy
# never decodes entries written by the previous version.
SCHEMA_VERSION = 1
NAMESPACE = f"ma:v{SCHEMA_VERSION}"


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    ttl_s: int


FEED = Policy("feed", 30)
LEADERBOARD = Policy("leaderboard", 60)
MARKET = Policy("market", 300)
BANNERS = Policy("banners", 300)
PROFILE = Policy("profile", 60)

POLICIES: dict[str, Policy] = {p.name: p for p in (FEED, LEADERBOARD, MARKET, BANNERS, PROFILE)}
