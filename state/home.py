"""Home: banners, my balance, today's reward, the latest feed items."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import reflex as rx

from app.cache import keys
from app.domain import queries, rewards
from app.domain.errors import DomainError
from app.domain.views import RewardResult
from state import live
from state.feed import FeedRow, first_page
from state.member import MemberScreen
from state.services import call

LATEST = 5


@dataclass
class BannerCard:
    id: int
    title: str
    subtitle: str
    image: str
    link: str


async def _latest() -> list[FeedRow]:
    # The head of the Feed screen's first page: one cache entry (and one reload after a
    # write) serves both screens.
    rows, _ = await first_page()
    return rows[:LATEST]


class HomeState(MemberScreen, rx.State):
    banners: list[BannerCard] = []
    latest: list[FeedRow] = []
    claimed_today: bool = False
    reward_amount: int = rewards.DAILY_REWARD
    loaded: bool = False
    claiming: bool = False

    @rx.event
    async def load(self) -> None:
        uid = await self._member()
        if uid is None:
            return
        try:
            banners = await call(queries.active_banners)
            latest = await _latest()
            status = await call(rewards.reward_status, uid)
        except DomainError as exc:
            self.error = exc.message
            return
        self.banners = [BannerCard(b.id, b.title, b.subtitle, b.image, b.link) for b in banners]
        self.latest = latest
        self.claimed_today = status.claimed_today
        self.reward_amount = status.amount
        self.loaded = True

    async def refresh_latest(self) -> None:
        if not self.loaded:
            return
        try:
            self.latest = await _latest()
        except DomainError:
            return

    @rx.event
    async def claim(self) -> AsyncIterator[Any]:
        async def claimed(result: RewardResult) -> None:
            self.claimed_today = True
            self.notice = f"+{result.amount} points! Come back tomorrow for more."
            await self.refresh_latest()

        async def refused(exc: DomainError) -> None:
            self.claimed_today = exc.code == "already_claimed" or self.claimed_today

        claim = partial(call, rewards.claim_daily_reward)
        async for step in self._act("claiming", claim, claimed, refused):
            yield step


async def _pushed_latest(_: str) -> live.Values:
    return {HomeState: {"latest": await _latest()}}


# Home's latest rows: the same for every member on Home.
HOME_LATEST = live.Broadcast("home", (keys.FEED,), _pushed_latest)
