"""Input checks in app.domain.validation: what hostile or sloppy clients may send."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest

from app.domain.errors import DomainError, InvalidInput
from app.domain.validation import (
    MAX_NOTE_CHARS,
    MAX_TRANSFER,
    MAX_USER_ID,
    clean_note,
    normalize_username,
    parse_amount,
    require_id,
    require_idempotency_key,
    require_limit,
    require_user_id,
)

TEN_MB = "9" * (10 * 1024 * 1024)

# --- amounts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1),
        (250, 250),
        (MAX_TRANSFER, MAX_TRANSFER),
        (42.0, 42),
        ("42", 42),
        (" 42 ", 42),
        ("+7", 7),
        ("1,000", 1000),
        ("1,000,000", 1_000_000),
        ("1_000", 1000),
    ],
)
def test_amount_accepted(value: Any, expected: int) -> None:
    result = parse_amount(value)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    "value",
    [
        0,
        -5,
        "-5",
        "0",
        "-0",
        0.0,
        -0.0,
        1.5,
        "1.5",
        "abc",
        "",
        "   ",
        "5 points",
        "0x10",
        "1e3",
        True,
        False,
        math.nan,
        math.inf,
        -math.inf,
        "nan",
        "inf",
        10**30,
        -(10**30),
        1e300,
        MAX_TRANSFER + 1,
        "9" * 21,
        TEN_MB,
        None,
        [],
        [5],
        {},
        {"amount": 5},
        Decimal("5"),
        b"5",
        object(),
        # A comma that is not a thousands separator is a decimal comma in much of the
        # world: "1,5" must not silently become 15 points.
        "1,5",
        "12,34",
        ",100",
        "100,",
        "1,,000",
    ],
    ids=repr,
)
def test_amount_rejected(value: Any) -> None:
    with pytest.raises(InvalidInput) as info:
        parse_amount(value)
    assert info.value.message  # something the UI can show


def test_amount_messages_say_what_is_wrong() -> None:
    with pytest.raises(InvalidInput, match="positive"):
        parse_amount(0)
    with pytest.raises(InvalidInput, match="positive"):
        parse_amount(-5)
    with pytest.raises(InvalidInput, match="at most 1,000,000"):
        parse_amount(MAX_TRANSFER + 1)
    with pytest.raises(InvalidInput, match="whole number"):
        parse_amount(1.5)


def test_domain_errors_carry_code_and_message() -> None:
    with pytest.raises(DomainError) as info:
        parse_amount("abc")
    assert info.value.code == "invalid_input"
    assert str(info.value) == info.value.message


# --- ids and limits --------------------------------------------------------------------


@pytest.mark.parametrize("value", [1, "17", MAX_USER_ID, 7_000_000_001, float(2**40)])
def test_user_id_accepted(value: Any) -> None:
    assert require_user_id(value) == int(value)


@pytest.mark.parametrize(
    "value", [0, -1, MAX_USER_ID + 1, 2**64, None, "", "x", 1.5, True, [1], {"id": 1}, TEN_MB]
)
def test_user_id_rejected(value: Any) -> None:
    with pytest.raises(InvalidInput):
        require_user_id(value)


@pytest.mark.parametrize("value", [0, -3, 2**62 + 1, 2**100, "id", None, 2.5, False])
def test_id_rejected(value: Any) -> None:
    with pytest.raises(InvalidInput):
        require_id(value, "Item id")


def test_id_bounds() -> None:
    assert require_id(1) == 1
    assert require_id(2**62) == 2**62


@pytest.mark.parametrize(("value", "ok"), [(1, True), (100, True), (0, False), (101, False)])
def test_limit_bounds(value: int, ok: bool) -> None:
    if ok:
        assert require_limit(value) == value
    else:
        with pytest.raises(InvalidInput):
            require_limit(value)


# --- usernames -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("alice", "alice"),
        ("@alice", "alice"),
        ("@Alice_1 ", "alice_1"),
        ("  BOB  ", "bob"),
        ("abc", "abc"),
        ("a" * 32, "a" * 32),
        ("alice\n", "alice"),
    ],
)
def test_username_normalized(value: str, expected: str) -> None:
    assert normalize_username(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "@",
        "@@alice",
        "ab",
        "a" * 33,
        "1alice",
        "_alice",
        "ali ce",
        "ali-ce",
        "alice!",
        "al\x00ice",
        "ali\u200bce",  # zero-width space
        "\u0430lice",  # Cyrillic a
        "\uff41\uff4c\uff49\uff43\uff45",  # fullwidth "alice"
        "alice'; DROP TABLE users; --",
        "%",
        None,
        123,
        ["alice"],
        {"username": "alice"},
        b"alice",
        "a" * (10 * 1024 * 1024),
    ],
    ids=lambda v: repr(v)[:40],
)
def test_username_rejected(value: Any) -> None:
    with pytest.raises(InvalidInput, match="username"):
        normalize_username(value)


# --- notes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("\x00\x07", None),
        ("  thanks!  ", "thanks!"),
        ("a\x00b\x07c\x1bd", "abcd"),
        ("evil\u202etxt.exe", "eviltxt.exe"),  # bidi override
        ("zero\u200bwidth", "zerowidth"),  # format character
        ("tab\there", "tabhere"),
        ("line one\nline two", "line one\nline two"),
        # Emoji sequences joined by ZERO WIDTH JOINER stay whole.
        ("pizza 🍕 for 👩\u200d💻 ❤\ufe0f\u200d🔥", "pizza 🍕 for 👩\u200d💻 ❤\ufe0f\u200d🔥"),
        ("x" * MAX_NOTE_CHARS, "x" * MAX_NOTE_CHARS),
        # Stripped characters do not count towards the limit.
        ("x" * MAX_NOTE_CHARS + "\x00" * 10, "x" * MAX_NOTE_CHARS),
        ("é" * MAX_NOTE_CHARS, "é" * MAX_NOTE_CHARS),
    ],
    ids=lambda v: repr(v)[:30],
)
def test_note_cleaned(value: Any, expected: str | None) -> None:
    assert clean_note(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "x" * (MAX_NOTE_CHARS + 1),
        "🍕" * (MAX_NOTE_CHARS + 1),
        "n" * (10 * 1024 * 1024),
        5,
        1.5,
        True,
        ["note"],
        {"note": "x"},
        b"bytes",
    ],
    ids=lambda v: repr(v)[:30],
)
def test_note_rejected(value: Any) -> None:
    with pytest.raises(InvalidInput, match="Note"):
        clean_note(value)


# --- idempotency keys ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "abcdefgh",
        "k" * 128,
        "0b8e2c1a-7a55-4c5e-9f0f-2f2b3c4d5e6f",
        "buy:item-3:1700000000.123",
        "A_b.C:d-E",
    ],
)
def test_key_accepted(value: str) -> None:
    assert require_idempotency_key(value) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        "short",
        "abcdefg",
        "k" * 129,
        "has space",
        "abcdefgh\n",
        "abc/defgh",
        "ключ-ключ-ключ",
        "abcd%efgh",
        None,
        12345678,
        ["abcdefgh"],
        {"key": "abcdefgh"},
        b"abcdefgh",
        "k" * (10 * 1024 * 1024),
    ],
    ids=lambda v: repr(v)[:30],
)
def test_key_rejected(value: Any) -> None:
    with pytest.raises(InvalidInput, match="Request key"):
        require_idempotency_key(value)
