"""Home: banners, my balance, today's reward, the latest feed items."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import reflex as rx

from app.domain import queries, rewards
from app.domain.errors import DomainError
from state.feed import FeedRow, to_row
from state.member import member_id, set_balance
from state.services import call

LATEST = 5


@dataclass
class BannerCard:
    id: int
    title: str
    subtitle: str
    image: str
    link: str


class HomeState(rx.State):
    banners: list[BannerCard] = []
    latest: list[FeedRow] = []
    claimed_today: bool = False
    reward_amount: int = rewards.DAILY_REWARD
    loaded: bool = False
    claiming: bool = False
    error: str = ""
    notice: str = ""

    @rx.event
    async def load(self) -> None:
        uid = await member_id(self)
        if uid is None:
            return
        try:
            banners = await call(queries.active_banners)
            page = await call(queries.feed_page, None, LATEST)
            status = await call(rewards.reward_status, uid)
        except DomainError as exc:
            self.error = exc.message
            return
        self.banners = [BannerCard(b.id, b.title, b.subtitle, b.image, b.link) for b in banners]
        self.latest = [to_row(i) for i in page.items]
        self.claimed_today = status.claimed_today
        self.reward_amount = status.amount
        self.loaded = True

    async def refresh_latest(self) -> None:
        if not self.loaded:
            return
        try:
            page = await call(queries.feed_page, None, LATEST)
        except DomainError:
            return
        self.latest = [to_row(i) for i in page.items]

    @rx.event
    async def claim(self) -> AsyncIterator[None]:
        uid = await member_id(self)
        if uid is None or self.claiming:
            return
        self.claiming, self.error, self.notice = True, "", ""
        yield
        try:
            result = await call(rewards.claim_daily_reward, uid)
        except DomainError as exc:
            self.error = exc.message
            self.claimed_today = exc.code == "already_claimed" or self.claimed_today
        else:
            await set_balance(self, result.balance)
            self.claimed_today = True
            self.notice = f"+{result.amount} points! Come back tomorrow for more."
            page = await call(queries.feed_page, None, LATEST)
            self.latest = [to_row(i) for i in page.items]
        finally:
            self.claiming = False
