"""Live data: while a screen is open, new feed items and my balance arrive by themselves.

The page's LiveTicker asks every 2 s; the answer costs one read of generation counters,
which every write in app/domain bumps (through Redis, so across processes and machines).
Only when the feed or my own data changed does anything reload, from the cache.
"""

from __future__ import annotations

import asyncio

import reflex as rx

from app.cache import keys
from app.domain.db import get_database
from state.feed import FeedState
from state.home import HomeState
from state.member import member_id
from state.session import SessionState

INTERVAL_MS = 2000


class LiveState(rx.State):
    # Backend-only: what this tab has seen, so a tick reloads only what changed.
    _seen: dict[str, int] = {}

    async def _versions(self, uid: int) -> dict[str, int] | None:
        families = [keys.FEED, keys.profile(uid)]
        return await asyncio.to_thread(get_database().cache.versions, families)

    async def mark_seen(self) -> None:
        """Before a screen reloads everything (a resume): what changes after this point is
        the next tick's to fetch; what changed before it, the reload's."""
        uid = await member_id(self)
        if uid is not None and (versions := await self._versions(uid)) is not None:
            self._seen = versions

    @rx.event
    async def tick(self) -> None:
        uid = await member_id(self)
        if uid is None:
            return
        feed_key, mine = keys.FEED.generation_key, keys.profile(uid).generation_key
        versions = await self._versions(uid)
        if versions is None:
            return
        seen, self._seen = self._seen, versions
        if not seen:
            return  # the first look: the screen loaded fresh data already
        epoch_changed = seen.get(keys.EPOCH_KEY) != versions[keys.EPOCH_KEY]
        if epoch_changed or seen.get(feed_key) != versions[feed_key]:
            await (await self.get_state(FeedState)).refresh_top()
            await (await self.get_state(HomeState)).refresh_latest()
        if epoch_changed or seen.get(mine) != versions[mine]:
            await (await self.get_state(SessionState))._refresh_profile()
