"""Every cached read of the screens, declared once (app/cache/reads.CachedRead).

The key parts after the name are given where the read is made: app/domain/queries.py reads
through these, app/domain/patches.py names the entries a write hands over. A new cached
read is one line here (plus, for a new kind of data, its family in app/cache/keys.py and
its TTL row in app/cache/policy.py).
"""

from __future__ import annotations

from app.cache import keys
from app.cache import policy as policies
from app.cache.reads import CachedRead
from app.domain.views import (
    BannerView,
    FeedPage,
    Leaderboard,
    LeaderEntry,
    MarketItemView,
    PurchaseView,
    Standings,
    UserProfile,
)

# Each comment gives the key parts that follow the name where the read is made; "owner" is
# the member whose family it is (owner=<id>).

# cursor, limit
FEED_PAGE = CachedRead[FeedPage](keys.FEED, policies.FEED, FeedPage, "page")
# owner; cursor, limit
HISTORY = CachedRead[FeedPage](keys.history, policies.FEED, FeedPage)
# period, limit
BOARD_TOP = CachedRead[Leaderboard](keys.LEADERBOARD, policies.LEADERBOARD, Leaderboard, "top")
# period, member id. My rank moves whenever anyone's score does: the leaderboard's family.
MY_RANK = CachedRead[LeaderEntry | None](
    keys.LEADERBOARD, policies.LEADERBOARD, LeaderEntry | None, "rank"
)
# period: everyone's place, one snapshot after each write (queries._my_rank)
STANDINGS = CachedRead[Standings](keys.LEADERBOARD, policies.LEADERBOARD, Standings, "standings")
MARKET_ITEMS = CachedRead[list[MarketItemView]](
    keys.MARKET, policies.MARKET, list[MarketItemView], "items"
)
# item id
MARKET_ITEM = CachedRead[MarketItemView](keys.MARKET, policies.MARKET, MarketItemView, "item")
BANNERS = CachedRead[list[BannerView]](keys.BANNERS, policies.BANNERS, list[BannerView], "active")
# owner
PROFILE = CachedRead[UserProfile](keys.profile, policies.PROFILE, UserProfile, "view")
# owner; limit
PURCHASES = CachedRead[list[PurchaseView]](keys.purchases, policies.PROFILE, list[PurchaseView])
