"""Pure helpers of the domain: feed cursors, names and initials, week and day boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from app.domain.errors import InvalidInput
from app.domain.feed import decode_cursor, encode_cursor
from app.domain.leaderboard import week_start
from app.domain.rewards import _wait_text, next_claim_at
from app.domain.views import display_name, initials

PLUS5 = timezone(timedelta(hours=5))
MINUS8 = timezone(timedelta(hours=-8))

# --- feed cursors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "stamp",
    [
        datetime(2025, 3, 14, 15, 9, 26, 535897, tzinfo=UTC),
        datetime(2025, 1, 1, tzinfo=UTC),
        datetime(2025, 6, 30, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
@pytest.mark.parametrize("tx_id", [1, 42, 2**53, 2**63 - 1])
def test_cursor_round_trip(stamp: datetime, tx_id: int) -> None:
    cursor = encode_cursor(stamp, tx_id)
    assert len(cursor) <= 64
    assert decode_cursor(cursor) == (stamp, tx_id)


def test_cursor_in_other_zone_decodes_to_same_instant_in_utc() -> None:
    stamp = datetime(2025, 3, 14, 20, 0, tzinfo=PLUS5)
    decoded, tx_id = decode_cursor(encode_cursor(stamp, 9))
    assert decoded == stamp
    assert decoded.utcoffset() == timedelta(0)
    assert decoded.hour == 15
    assert tx_id == 9


def test_cursor_without_offset_is_read_as_utc() -> None:
    decoded, _ = decode_cursor("2025-03-14T15:00:00~3")
    assert decoded == datetime(2025, 3, 14, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    "cursor",
    [
        None,
        5,
        1.5,
        ["2025-01-01~1"],
        {"cursor": "x"},
        b"2025-01-01~1",
        "",
        "~",
        "abc",
        "2025-01-01",
        "2025-01-01T00:00:00+00:00",
        "2025-01-01~",
        "~5",
        "x~5",
        "2025-01-01~x",
        "2025-01-01~1.5",
        "2025-13-01T00:00:00~5",
        "2025-02-30T00:00:00~5",
        "2025-01-01T25:00:00~5",
        "2025-01-01" + "~1" * 40,
        "a" * 65,
        "9" * 10_000_000,
        # Out of the range of datetime once moved to UTC: OverflowError in the stdlib.
        "0001-01-01T00:00:00+14:00~1",
        "9999-12-31T23:59:59-14:00~1",
        # Ids the databases cannot hold (SQLite raises OverflowError beyond 64 bits).
        "2025-01-01T00:00:00+00:00~99999999999999999999",
        "2025-01-01T00:00:00+00:00~-1",
    ],
    ids=lambda v: repr(v)[:40],
)
def test_garbage_cursor_is_invalid_input(cursor: Any) -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        decode_cursor(cursor)


# --- names -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "username", "expected"),
    [
        ("Ann", "Lee", "ann", "Ann Lee"),
        ("Ann", None, "ann", "Ann"),
        ("", "Lee", None, "Lee"),
        ("", None, "ann", "@ann"),
        (None, None, "ann", "@ann"),
        ("", None, None, "Member"),
        (None, None, None, "Member"),
        ("  ", None, None, "Member"),
        ("Élodie", "Château", None, "Élodie Château"),
    ],
)
def test_display_name(
    first: str | None, last: str | None, username: str | None, expected: str
) -> None:
    assert display_name(first, last, username) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ann Lee", "AL"),
        ("ann lee", "AL"),
        ("Ann Mary Lee", "AM"),
        ("Ann", "A"),
        ("@ann", "A"),
        ("Member", "M"),
        ("élodie château", "ÉC"),
        ("", "?"),
        ("   ", "?"),
        ("@", "?"),
    ],
)
def test_initials(name: str, expected: str) -> None:
    assert initials(name) == expected


# --- week and day boundaries -----------------------------------------------------------

MONDAY = datetime(2025, 3, 10, tzinfo=UTC)  # a Monday, 00:00 UTC


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (MONDAY, MONDAY),
        (MONDAY + timedelta(microseconds=1), MONDAY),
        (MONDAY + timedelta(days=3, hours=12), MONDAY),
        (MONDAY + timedelta(days=7) - timedelta(microseconds=1), MONDAY),  # Sunday 23:59:59.9
        (MONDAY + timedelta(days=7), MONDAY + timedelta(days=7)),
        (MONDAY - timedelta(microseconds=1), MONDAY - timedelta(days=7)),
        # Monday 01:00 at UTC+5 is still Sunday in UTC: the previous week.
        (datetime(2025, 3, 17, 1, 0, tzinfo=PLUS5), MONDAY),
        # Sunday 20:00 at UTC-8 is already Monday 04:00 in UTC.
        (datetime(2025, 3, 16, 20, 0, tzinfo=MINUS8), MONDAY + timedelta(days=7)),
        # Across a year boundary: 2025-01-01 is a Wednesday.
        (datetime(2025, 1, 1, 12, tzinfo=UTC), datetime(2024, 12, 30, tzinfo=UTC)),
    ],
)
def test_week_start(now: datetime, expected: datetime) -> None:
    start = week_start(now)
    assert start == expected
    assert start.utcoffset() == timedelta(0)
    assert start.weekday() == 0


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2025, 3, 10, tzinfo=UTC), datetime(2025, 3, 11, tzinfo=UTC)),
        (datetime(2025, 3, 10, 23, 59, 59, 999999, tzinfo=UTC), datetime(2025, 3, 11, tzinfo=UTC)),
        (datetime(2025, 12, 31, 18, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)),
        (datetime(2024, 2, 28, 12, tzinfo=UTC), datetime(2024, 2, 29, tzinfo=UTC)),
        # 02:00 at UTC+5 is 21:00 UTC the day before.
        (datetime(2025, 3, 11, 2, 0, tzinfo=PLUS5), datetime(2025, 3, 11, tzinfo=UTC)),
    ],
)
def test_next_claim_at(now: datetime, expected: datetime) -> None:
    assert next_claim_at(now) == expected
    assert next_claim_at(now) > now


@pytest.mark.parametrize(
    ("now", "text"),
    [
        (datetime(2025, 3, 10, 23, 59, 30, tzinfo=UTC), "1 min"),
        (datetime(2025, 3, 10, 23, 15, tzinfo=UTC), "45 min"),
        (datetime(2025, 3, 10, 21, 30, tzinfo=UTC), "2 h 30 min"),
        (datetime(2025, 3, 10, 0, 0, tzinfo=UTC), "24 h 0 min"),
    ],
)
def test_wait_text(now: datetime, text: str) -> None:
    assert _wait_text(now) == text
