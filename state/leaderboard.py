"""Leaderboard: top members by balance or by this week's earnings, and my own place."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from app.cache import keys
from app.domain import queries
from app.domain.errors import DomainError
from app.domain.leaderboard import PERIODS
from app.domain.views import LeaderEntry
from state import live
from state.formatting import points
from state.member import MemberScreen
from state.services import call


@dataclass
class LeaderRow:
    # The same for every member (the rows are pushed alike to all): the page marks my own
    # row by comparing user_id with LeaderboardState.me_id.
    rank: int
    user_id: int
    name: str
    initials: str
    score: str


def _row(entry: LeaderEntry) -> LeaderRow:
    return LeaderRow(entry.rank, entry.user_id, entry.name, entry.initials, points(entry.score))


class LeaderboardState(MemberScreen, rx.State):
    period: str = "all"
    rows: list[LeaderRow] = []
    me: LeaderRow | None = None
    me_id: int = 0  # the member's own Telegram id, which their page knows anyway
    members: int = 0
    loaded: bool = False

    @rx.event
    async def load(self) -> None:
        uid = await self._member()
        if uid is None:
            return
        try:
            board = await call(queries.board, self.period, uid, queries.BOARD_TOP)
        except DomainError as exc:
            self.error = exc.message
            return
        self.rows = [_row(e) for e in board.entries]
        self.me = _row(board.me) if board.me else None
        self.me_id = uid
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
        uid = await self._member()
        await live.follow(self, self.router.route_id, uid or 0)


async def _top(period: str) -> live.Values:
    board = await call(queries.board, period, None, queries.BOARD_TOP)
    rows = [_row(e) for e in board.entries]
    return {LeaderboardState: {"rows": rows, "members": board.members}}


async def _period(state: rx.State) -> str:
    return (await state.get_state(LeaderboardState)).period


# The top of the board a tab shows (by balance or this week): the same for everyone.
# My own pinned rank is mine alone and follows my own writes (a member push).
BOARD_TOP = live.Broadcast("board", (keys.LEADERBOARD,), _top, arg=_period)
