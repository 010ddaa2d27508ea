"""Leaderboard: top members by balance or by this week's earnings, and my own place."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from app.domain import queries
from app.domain.errors import DomainError
from app.domain.leaderboard import PERIODS
from app.domain.views import LeaderEntry
from state.formatting import points
from state.member import member_id
from state.services import call


@dataclass
class LeaderRow:
    rank: int
    user_id: int
    name: str
    initials: str
    score: str
    mine: bool


def _row(entry: LeaderEntry, me: int) -> LeaderRow:
    return LeaderRow(
        entry.rank,
        entry.user_id,
        entry.name,
        entry.initials,
        points(entry.score),
        entry.user_id == me,
    )


class LeaderboardState(rx.State):
    period: str = "all"
    rows: list[LeaderRow] = []
    me: LeaderRow | None = None
    me_in_top: bool = False
    members: int = 0
    loaded: bool = False
    error: str = ""

    @rx.event
    async def load(self) -> None:
        uid = await member_id(self)
        if uid is None:
            return
        try:
            board = await call(queries.board, self.period, uid, queries.BOARD_TOP)
        except DomainError as exc:
            self.error = exc.message
            return
        self.rows = [_row(e, uid) for e in board.entries]
        self.me = _row(board.me, uid) if board.me else None
        self.me_in_top = any(r.mine for r in self.rows)
        self.members = board.members
        self.error = ""
        self.loaded = True

    @rx.event
    async def show(self, period: str | list[str]) -> None:
        # Anything can arrive from a client: only the two periods are accepted.
        if not isinstance(period, str) or period not in PERIODS or period == self.period:
            return
        self.period = period
        self.loaded = False
        await self.load()
