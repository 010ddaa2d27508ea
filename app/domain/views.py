"""Plain, immutable results of the services: what state and the cache hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


def display_name(first_name: str | None, last_name: str | None, username: str | None) -> str:
    name = " ".join(part for part in (first_name, last_name) if part).strip()
    if name:
        return name
    return f"@{username}" if username else "Member"


def initials(name: str) -> str:
    parts = [p for p in name.replace("@", "").split() if p]
    letters = "".join(p[0] for p in parts[:2]).upper()
    return letters or "?"


@dataclass(frozen=True, slots=True)
class UserProfile:
    id: int
    username: str | None
    name: str
    initials: str
    photo_url: str | None
    balance: int
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class FeedItem:
    id: int
    kind: str
    amount: int
    created_at: datetime
    from_id: int | None
    from_name: str | None
    to_id: int | None
    to_name: str | None
    item_title: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class FeedPage:
    items: list[FeedItem]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class LeaderEntry:
    rank: int
    user_id: int
    name: str
    initials: str
    username: str | None
    photo_url: str | None
    score: int


@dataclass(frozen=True, slots=True)
class Leaderboard:
    period: str  # "all" (by balance) or "week" (points earned this week)
    entries: list[LeaderEntry]
    me: LeaderEntry | None = None
    members: int = 0


@dataclass(frozen=True, slots=True)
class MarketItemView:
    id: int
    title: str
    description: str
    price: int
    stock: int
    image: str


@dataclass(frozen=True, slots=True)
class BannerView:
    id: int
    title: str
    subtitle: str
    image: str
    link: str


@dataclass(frozen=True, slots=True)
class PurchaseView:
    id: int
    item_id: int
    title: str
    image: str
    price: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TransferResult:
    transaction_id: int
    amount: int
    recipient_id: int
    recipient_name: str
    balance: int
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class PurchaseResult:
    purchase_id: int
    transaction_id: int
    item_id: int
    title: str
    price: int
    balance: int
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class RewardResult:
    transaction_id: int
    amount: int
    balance: int
    next_claim_at: datetime


@dataclass(frozen=True, slots=True)
class RewardStatus:
    claimed_today: bool
    next_claim_at: datetime
    amount: int


@dataclass(frozen=True, slots=True)
class Standings:
    """Every member's place for one leaderboard period: ids and scores as packed int64."""

    period: str
    ids: bytes
    scores: bytes
