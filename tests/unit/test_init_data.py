"""validate_init_data: Telegram's HMAC scheme, the Ed25519 third-party option, and one
reason per kind of rejection. No mocks of the code under test: data is signed either by
hand (the documented algorithm, written out here) or with Telegram's real published values.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import tracemalloc
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import telegram_webapp_auth.auth as twa_auth
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.telegram.init_data import (
    DEFAULT_MAX_AGE,
    MAX_INIT_DATA_CHARS,
    REASONS,
    InitData,
    InitDataError,
    bot_id_from_token,
    validate_init_data,
)
from app.telegram.signing import data_check_string, sign_init_data

TOKEN = "1234567890:AAF-test-token_for_unit_tests"
OTHER_TOKEN = "1234567890:AAF-another-token_same_bot_id"
AUTH_DATE = 1_700_000_000
NOW = datetime.fromtimestamp(AUTH_DATE, UTC) + timedelta(minutes=5)
USER: dict[str, Any] = {
    "id": 424242,
    "first_name": "Ann",
    "last_name": "Lee",
    "username": "ann_lee",
    "language_code": "en",
    "is_premium": True,
    "allows_write_to_pm": True,
}


# ---------------------------------------------------------------------------------------
# Helpers: Telegram's algorithm written out by hand, independent of app.telegram.signing.
# ---------------------------------------------------------------------------------------


def hand_check_string(fields: Mapping[str, str], exclude: tuple[str, ...] = ("hash",)) -> str:
    return "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k not in exclude)


def hand_hash(fields: Mapping[str, str], bot_token: str) -> str:
    """https://core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app"""
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    return hmac.new(secret, hand_check_string(fields).encode(), hashlib.sha256).hexdigest()


def hand_sign(fields: Mapping[str, str], bot_token: str = TOKEN) -> str:
    return urlencode({**fields, "hash": hand_hash(fields, bot_token)})


def user_json(user: Mapping[str, Any] = USER) -> str:
    return json.dumps(dict(user), separators=(",", ":"), ensure_ascii=False)


def signed(user: Mapping[str, Any] = USER, *, auth_date: int = AUTH_DATE, **extra: str) -> str:
    return hand_sign({"auth_date": str(auth_date), "user": user_json(user), **extra})


def fields_of(raw: str) -> dict[str, str]:
    return dict(parse_qsl(raw, keep_blank_values=True, strict_parsing=True))


def validate(raw: object, bot_token: str = TOKEN, **kwargs: Any) -> InitData:
    kwargs.setdefault("now", NOW)
    return validate_init_data(raw, bot_token, **kwargs)


def reason_of(raw: object, bot_token: str = TOKEN, **kwargs: Any) -> str:
    with pytest.raises(InitDataError) as info:
        validate(raw, bot_token, **kwargs)
    assert info.value.reason in REASONS
    assert info.value.message == REASONS[info.value.reason]
    return info.value.reason


# ---------------------------------------------------------------------------------------
# Accepted.
# ---------------------------------------------------------------------------------------


def test_valid_init_data_is_accepted_and_user_parsed() -> None:
    raw = signed(query_id="AAHq", chat_type="sender", chat_instance="-42", start_param="ref7")
    data = validate(raw)
    assert data.raw == raw
    assert data.user.id == 424242
    assert (data.user.first_name, data.user.last_name, data.user.username) == (
        "Ann",
        "Lee",
        "ann_lee",
    )
    assert data.user.is_premium is True
    assert data.user.is_bot is False
    assert data.auth_date == datetime.fromtimestamp(AUTH_DATE, UTC)
    assert (data.query_id, data.chat_type, data.chat_instance, data.start_param) == (
        "AAHq",
        "sender",
        "-42",
        "ref7",
    )


def test_unknown_user_fields_and_unknown_top_level_fields_are_tolerated() -> None:
    user = {
        **USER,
        "added_to_attachment_menu": True,
        "emoji_status_custom_emoji_id": "123",
        "field_from_2030": {"nested": [1, 2, 3]},
    }
    raw = signed(user, brand_new_param="x", signature="not-checked-in-hmac-mode")
    data = validate(raw)
    assert data.user.id == USER["id"]
    assert not hasattr(data.user, "field_from_2030")


def test_minimal_user_with_only_an_id_is_accepted() -> None:
    assert validate(signed({"id": 7})).user.id == 7


def test_field_order_in_the_query_string_does_not_matter() -> None:
    fields = {"user": user_json(), "auth_date": str(AUTH_DATE), "query_id": "AAH"}
    digest = hand_hash(fields, TOKEN)
    reordered = urlencode([("hash", digest), *reversed(list(fields.items()))])
    assert validate(reordered).user.id == USER["id"]


def test_percent_encoded_special_characters_are_checked_after_decoding() -> None:
    user = {"id": 5, "first_name": "Zoë & <Bob> = 100% + ? / \\ \u2603 \U0001f600"}
    data = validate(signed(user))
    assert data.user.first_name == user["first_name"]


# ---------------------------------------------------------------------------------------
# Rejected, each with its own reason.
# ---------------------------------------------------------------------------------------


def test_user_name_edited_after_signing_is_rejected() -> None:
    fields = fields_of(signed())
    fields["user"] = fields["user"].replace('"Ann"', '"Eve"')
    assert reason_of(urlencode(fields)) == "bad_hash"


def test_user_id_changed_after_signing_is_rejected() -> None:
    fields = fields_of(signed())
    fields["user"] = fields["user"].replace("424242", "1")
    assert reason_of(urlencode(fields)) == "bad_hash"


@pytest.mark.parametrize("field", ["auth_date", "query_id"])
def test_any_other_field_changed_after_signing_is_rejected(field: str) -> None:
    fields = fields_of(signed(query_id="AAH1"))
    fields[field] = fields[field][:-1] + ("7" if fields[field][-1] != "7" else "8")
    assert reason_of(urlencode(fields)) == "bad_hash"


def test_added_field_after_signing_is_rejected() -> None:
    assert reason_of(signed() + "&start_param=admin") == "bad_hash"


def test_removed_field_after_signing_is_rejected() -> None:
    fields = fields_of(signed(query_id="AAH1"))
    del fields["query_id"]
    assert reason_of(urlencode(fields)) == "bad_hash"


def test_changed_hash_is_rejected() -> None:
    fields = fields_of(signed())
    digest = fields["hash"]
    fields["hash"] = digest[:10] + ("0" if digest[10] != "0" else "1") + digest[11:]
    assert reason_of(urlencode(fields)) == "bad_hash"


@pytest.mark.parametrize(
    "bad_hash",
    ["0" * 64, "abc", "A" * 64, "g" * 64, "é" * 64, "\u0660" * 64, " " + "a" * 63],
    ids=["zeros", "short", "uppercase", "not-hex", "latin1", "arabic-digits", "leading-space"],
)
def test_hash_that_is_not_sha256_hex_is_rejected(bad_hash: str) -> None:
    fields = fields_of(signed())
    fields["hash"] = bad_hash
    assert reason_of(urlencode(fields)) == "bad_hash"


def test_uppercase_version_of_the_right_hash_is_rejected() -> None:
    fields = fields_of(signed())
    fields["hash"] = fields["hash"].upper()
    assert reason_of(urlencode(fields)) == "bad_hash"


def test_non_ascii_hash_in_raw_form_is_rejected_not_crashing() -> None:
    # hmac.compare_digest raises TypeError on non-ASCII str; it must be a clean rejection.
    assert reason_of(f"auth_date={AUTH_DATE}&hash=\xe9") == "bad_hash"
    assert reason_of(f"auth_date={AUTH_DATE}&hash=%C3%A9") == "bad_hash"


def test_wrong_bot_token_is_rejected() -> None:
    raw = signed()
    assert reason_of(raw, OTHER_TOKEN) == "bad_hash"
    assert reason_of(raw, "999:" + TOKEN.partition(":")[2]) == "bad_hash"
    assert validate(raw, TOKEN).user.id == USER["id"]


def test_expired_auth_date_is_rejected_with_now_and_max_age() -> None:
    raw = signed()
    issued = datetime.fromtimestamp(AUTH_DATE, UTC)
    window = timedelta(hours=1)
    assert validate(raw, now=issued + window, max_age=window).user.id == USER["id"]
    assert reason_of(raw, now=issued + window + timedelta(seconds=1), max_age=window) == ("expired")


def test_default_freshness_window_is_24_hours() -> None:
    assert timedelta(hours=24) == DEFAULT_MAX_AGE
    raw = signed()
    issued = datetime.fromtimestamp(AUTH_DATE, UTC)
    assert validate(raw, now=issued + timedelta(hours=23, minutes=59)).user.id == USER["id"]
    assert reason_of(raw, now=issued + timedelta(hours=24, seconds=1)) == "expired"


def test_real_clock_is_used_when_now_is_not_given() -> None:
    fresh = signed(auth_date=int(time.time()) - 60)
    stale = signed(auth_date=int(time.time()) - 2 * 86400)
    assert validate_init_data(fresh, TOKEN).user.id == USER["id"]
    with pytest.raises(InitDataError) as info:
        validate_init_data(stale, TOKEN)
    assert info.value.reason == "expired"


def test_max_age_none_disables_the_freshness_check() -> None:
    raw = signed(auth_date=1)
    assert validate(raw, max_age=None).auth_date == datetime.fromtimestamp(1, UTC)


def test_expired_and_forged_reports_the_forgery_first() -> None:
    fields = fields_of(signed(auth_date=1))
    fields["user"] = fields["user"].replace("Ann", "Eve")
    assert reason_of(urlencode(fields)) == "bad_hash"


def test_missing_hash_is_rejected() -> None:
    fields = fields_of(signed())
    del fields["hash"]
    assert reason_of(urlencode(fields)) == "missing_hash"
    assert reason_of(urlencode({**fields, "hash": ""})) == "missing_hash"


@pytest.mark.parametrize("key", ["hash", "auth_date", "user", "query_id"])
def test_duplicate_keys_are_rejected(key: str) -> None:
    raw = signed(query_id="AAH1")
    value = fields_of(raw)[key]
    assert reason_of(f"{raw}&{urlencode({key: value})}") == "duplicate_key"
    assert reason_of(f"{urlencode({key: value})}&{raw}") == "duplicate_key"


def test_second_user_smuggled_in_is_a_duplicate_not_a_choice() -> None:
    raw = signed()
    other = urlencode({"user": user_json({"id": 1, "first_name": "Root"})})
    assert reason_of(f"{raw}&{other}") == "duplicate_key"


@pytest.mark.parametrize(
    "garbage",
    [
        "%%%",
        "=",
        "a=1&&b",
        "&",
        "a",
        "=value",
        "hash",
        "a=1&=2",
        "auth_date=1&hash",
        "\ud800",
        f"auth_date={AUTH_DATE}&user=\udcff&hash={'a' * 64}",
    ],
)
def test_garbage_strings_are_malformed(garbage: str) -> None:
    assert reason_of(garbage) == "malformed"


@pytest.mark.parametrize("garbage", [123, 1.5, b"auth_date=1&hash=x", {"hash": "x"}, ["a"], True])
def test_non_string_input_is_malformed(garbage: object) -> None:
    assert reason_of(garbage) == "malformed"


@pytest.mark.parametrize("empty", [None, ""])
def test_nothing_sent_is_missing(empty: object) -> None:
    assert reason_of(empty) == "missing"


def test_lone_surrogate_in_a_signed_looking_string_is_malformed_in_both_modes() -> None:
    # A JSON string from the page can carry "\ud800"; encoding it for HMAC used to crash.
    raw = signed() + "&x=\ud800"
    assert reason_of(raw) == "malformed"
    assert reason_of(raw + "&signature=AAAA", third_party=True) == "malformed"


@pytest.mark.parametrize("auth_date", ["", "abc", "-5", "1.5", "1e9", "1234567890123", "²"])
def test_bad_auth_date_is_rejected(auth_date: str) -> None:
    raw = hand_sign({"auth_date": auth_date, "user": user_json()})
    assert reason_of(raw) == "malformed"


def test_auth_date_absent_is_malformed() -> None:
    assert reason_of(hand_sign({"user": user_json()})) == "malformed"


def test_missing_user_is_rejected() -> None:
    raw = hand_sign({"auth_date": str(AUTH_DATE), "query_id": "AAH"})
    assert reason_of(raw) == "missing_user"
    raw = hand_sign({"auth_date": str(AUTH_DATE), "user": ""})
    assert reason_of(raw) == "missing_user"


@pytest.mark.parametrize(
    "user_text",
    [
        "not json",
        "{",
        "[1]",
        "null",
        '"alice"',
        "42",
        "{}",
        '{"first_name":"NoId"}',
        '{"id":"x"}',
        '{"id":"42"}',
        '{"id":true}',
        '{"id":1.5}',
        '{"id":0}',
        '{"id":-3}',
        '{"id":null}',
        '{"id":1e400}',
        '{"id":99999999999999999999999999}',
        '{"id":5,"first_name":null}',
    ],
)
def test_user_json_invalid_or_without_a_proper_id_is_bad_user(user_text: str) -> None:
    raw = hand_sign({"auth_date": str(AUTH_DATE), "user": user_text})
    assert reason_of(raw) == "bad_user"


def test_user_ids_end_at_telegrams_52_bits() -> None:
    assert validate(signed({"id": 2**52 - 1})).user.id == 2**52 - 1
    assert reason_of(signed({"id": 2**52})) == "bad_user"


def test_auth_date_ahead_of_the_clock() -> None:
    now = int(NOW.timestamp())  # the tests' clock
    assert validate(signed(auth_date=now + 60)).user.id == USER["id"]  # clocks drift a little
    assert reason_of(signed(auth_date=now + 3600)) == "future"
    assert reason_of(signed(auth_date=253_402_214_400)) == "future"  # the year 9999


def test_signed_but_odd_chat_fields_do_not_hide_the_user() -> None:
    # The library trips over these while building its own objects after the signature
    # matched; the app does not use them and must still see the (authentic) user.
    raw = signed(chat="not json", chat_type="brand_new_type", can_send_after="soon")
    assert validate(raw).user.id == USER["id"]


def test_ten_megabytes_are_rejected_fast() -> None:
    huge = "user=" + "A" * (10 * 1024 * 1024)
    started = time.perf_counter()
    assert reason_of(huge) == "too_large"
    assert time.perf_counter() - started < 0.5


def test_ten_megabytes_are_rejected_without_allocating_much() -> None:
    huge = signed() + "&pad=" + "%41" * (10 * 1024 * 1024 // 3)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        assert reason_of(huge) == "too_large"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - before < 2 * 1024 * 1024


def test_size_limit_boundary() -> None:
    # Real initData is ~1 KB; the limit leaves room and rejects anything beyond it.
    fields = {"auth_date": str(AUTH_DATE), "user": user_json()}
    pad = MAX_INIT_DATA_CHARS - len(hand_sign({**fields, "pad": ""}))
    at_limit = hand_sign({**fields, "pad": "x" * pad})
    assert len(at_limit) == MAX_INIT_DATA_CHARS
    assert validate(at_limit).user.id == USER["id"]
    over = hand_sign({**fields, "pad": "x" * (pad + 1)})
    assert reason_of(over) == "too_large"


# ---------------------------------------------------------------------------------------
# The HMAC scheme itself, and agreement of the signing helper with it.
# ---------------------------------------------------------------------------------------

FIXED_FIELDS = {
    "auth_date": "1700000000",
    "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
    "user": '{"id":279058397,"first_name":"Vladislav","username":"vdkfrost"}',
}
FIXED_TOKEN = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8"
FIXED_CHECK_STRING = (
    "auth_date=1700000000\n"
    "query_id=AAHdF6IQAAAAAN0XohDhrOrc\n"
    'user={"id":279058397,"first_name":"Vladislav","username":"vdkfrost"}'
)
# Computed once with the documented algorithm; must never change.
FIXED_SECRET_HEX = "a5c609aa52f63cb5e6d8ceb6e4138726ea82bbc36bb786d64482d445ea38ee5f"
FIXED_HASH = "d514de455483d0d02f8663e1215de5e3803d14da8601a7b800614fe8377703e1"


def test_data_check_string_is_sorted_lines_without_hash() -> None:
    with_hash = {**FIXED_FIELDS, "hash": "ff"}
    assert hand_check_string(with_hash) == FIXED_CHECK_STRING
    assert data_check_string(with_hash) == FIXED_CHECK_STRING


def test_fixed_vector_is_stable() -> None:
    secret = hmac.new(b"WebAppData", FIXED_TOKEN.encode(), hashlib.sha256).digest()
    assert secret.hex() == FIXED_SECRET_HEX
    expected = hmac.new(secret, FIXED_CHECK_STRING.encode(), hashlib.sha256).hexdigest()
    assert expected == FIXED_HASH
    raw = urlencode({**FIXED_FIELDS, "hash": FIXED_HASH})
    data = validate(raw, FIXED_TOKEN, max_age=None)
    assert data.user.id == 279058397
    assert data.query_id == FIXED_FIELDS["query_id"]


def test_sign_init_data_produces_the_documented_hash() -> None:
    user = {"id": 279058397, "first_name": "Vladislav", "username": "vdkfrost"}
    raw = sign_init_data(user, FIXED_TOKEN, auth_date=1700000000, extra={"chat_type": "sender"})
    fields = fields_of(raw)
    digest = fields.pop("hash")
    assert fields["auth_date"] == "1700000000"
    assert fields["chat_type"] == "sender"
    assert json.loads(fields["user"]) == user
    assert digest == hand_hash(fields, FIXED_TOKEN)
    assert validate(raw, FIXED_TOKEN, max_age=None).user.id == user["id"]
    # and the signature is bound to the token
    assert reason_of(raw, TOKEN, max_age=None) == "bad_hash"


def test_sign_init_data_non_ascii_user_round_trips() -> None:
    user = {"id": 9, "first_name": "Jürgen 李", "last_name": "O'Neil & Co"}
    raw = sign_init_data(user, TOKEN, auth_date=AUTH_DATE)
    fields = fields_of(raw)
    assert fields.pop("hash") == hand_hash(fields, TOKEN)
    assert validate(raw).user.first_name == "Jürgen 李"


def test_sign_init_data_uses_the_current_time_by_default() -> None:
    raw = sign_init_data({"id": 3}, TOKEN)
    assert abs(int(fields_of(raw)["auth_date"]) - time.time()) < 5
    assert validate_init_data(raw, TOKEN).user.id == 3


# ---------------------------------------------------------------------------------------
# Telegram's published example (core.telegram.org/bots/webapps, third-party validation,
# bot 7342037359). Its Ed25519 `signature` was made by Telegram: it verifies with
# Telegram's production public key, which nobody else can forge. The two `hash` values
# were made with the tokens below (example tokens used by public test suites).
# ---------------------------------------------------------------------------------------

PUBLISHED_USER = (
    "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20"
    "%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C"
    "%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22"
    "%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320"
    "%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D"
    "&chat_instance=8134722200314281151&chat_type=private"
)
PUBLISHED = [
    (
        PUBLISHED_USER + "&auth_date=1733509682"
        "&signature=TYJxVcisqbWjtodPepiJ6ghziUL94-KNpG8Pau-X7oNNLNBM72APCpi_RKiUlBvcqo5L-LAxIc3dnTzcZX_PDg"
        "&hash=a433d8f9847bd6addcc563bff7cc82c89e97ea0d90c11fe5729cae6796a36d73",
        "7342037359:AAHI25ES9xCOMPokpYoz-p8XVrZUdygo2J4",
        1733509682,
    ),
    (
        PUBLISHED_USER + "&auth_date=1733584787"
        "&signature=zL-ucjNyREiHDE8aihFwpfR9aggP2xiAo3NSpfe-p7IbCisNlDKlo7Kb6G4D0Ao2mBrSgEk4maLSdv6MLIlADQ"
        "&hash=2174df5b000556d044f3f020384e879c8efcab55ddea2ced4eb752e93e7080d6",
        "7342037359:AAFZehRPBRs8Seg40oDjTMIW8uTGPuW1zfQ",
        1733584787,
    ),
]


@pytest.mark.parametrize(("raw", "token", "auth_date"), PUBLISHED)
def test_published_example_hmac(raw: str, token: str, auth_date: int) -> None:
    when = datetime.fromtimestamp(auth_date, UTC)
    data = validate(raw, token, now=when + timedelta(minutes=1))
    assert data.user.id == 279058397
    assert data.user.first_name == "Vladislav + - ? /"
    assert data.user.photo_url is not None and data.user.photo_url.startswith("https://t.me/")
    assert data.chat_type == "private"
    # The modern `signature` field is part of the HMAC check string (only hash is left out).
    fields = fields_of(raw)
    assert fields.pop("hash") == hand_hash(fields, token)
    assert reason_of(raw, token, now=when + timedelta(days=2)) == "expired"
    assert reason_of(raw, "7342037359:AAwrong", now=when) == "bad_hash"


@pytest.mark.parametrize(("raw", "_token", "auth_date"), PUBLISHED)
def test_published_example_third_party_signature(raw: str, _token: str, auth_date: int) -> None:
    when = datetime.fromtimestamp(auth_date, UTC) + timedelta(minutes=1)
    # Only the bot id matters for the third-party check, not the secret part of the token.
    data = validate(raw, "7342037359:not-the-real-secret", now=when, third_party=True)
    assert data.user.id == 279058397
    assert reason_of(raw, "7342037358:x", now=when, third_party=True) == "bad_signature"
    assert reason_of(raw, "7342037359:x", now=when, third_party=True, test_env=True) == (
        "bad_signature"
    )
    edited = raw.replace("279058397", "279058398")
    assert reason_of(edited, "7342037359:x", now=when, third_party=True) == "bad_signature"


# ---------------------------------------------------------------------------------------
# Third-party (Ed25519) option with our own key pair standing in for Telegram's.
# ---------------------------------------------------------------------------------------

BOT_ID = bot_id_from_token(TOKEN)


@pytest.fixture
def telegram_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Ed25519PrivateKey]]:
    """Fresh key pairs installed as Telegram's production and test public keys."""
    keys = {"prod": Ed25519PrivateKey.generate(), "test": Ed25519PrivateKey.generate()}
    monkeypatch.setattr(twa_auth, "PROD_PUBLIC_KEY", keys["prod"].public_key())
    monkeypatch.setattr(twa_auth, "TEST_PUBLIC_KEY", keys["test"].public_key())
    yield keys


def third_party_sign(
    fields: Mapping[str, str], key: Ed25519PrivateKey, bot_id: int = BOT_ID
) -> str:
    """core.telegram.org/bots/webapps#validating-data-for-third-party-use"""
    check = f"{bot_id}:WebAppData\n" + hand_check_string(fields, exclude=("hash", "signature"))
    signature = base64.urlsafe_b64encode(key.sign(check.encode())).rstrip(b"=").decode()
    return urlencode({**fields, "signature": signature})


def tp_fields(**extra: str) -> dict[str, str]:
    return {"auth_date": str(AUTH_DATE), "user": user_json(), "chat_type": "sender", **extra}


def test_third_party_signature_is_accepted(telegram_keys: dict[str, Ed25519PrivateKey]) -> None:
    raw = third_party_sign(tp_fields(), telegram_keys["prod"])
    data = validate(raw, TOKEN, third_party=True)
    assert data.user.id == USER["id"]
    # The bot token's secret part plays no role; a `hash` field may be present or not.
    assert validate(raw, f"{BOT_ID}:anything", third_party=True).user.id == USER["id"]
    assert validate(raw + "&hash=" + "0" * 64, TOKEN, third_party=True).user.id == USER["id"]


def test_third_party_test_environment_uses_the_test_key(
    telegram_keys: dict[str, Ed25519PrivateKey],
) -> None:
    raw = third_party_sign(tp_fields(), telegram_keys["test"])
    assert validate(raw, TOKEN, third_party=True, test_env=True).user.id == USER["id"]
    assert reason_of(raw, TOKEN, third_party=True) == "bad_signature"
    prod_raw = third_party_sign(tp_fields(), telegram_keys["prod"])
    assert reason_of(prod_raw, TOKEN, third_party=True, test_env=True) == "bad_signature"


def test_third_party_missing_signature(telegram_keys: dict[str, Ed25519PrivateKey]) -> None:
    fields = fields_of(third_party_sign(tp_fields(), telegram_keys["prod"]))
    del fields["signature"]
    assert reason_of(urlencode(fields), third_party=True) == "missing_signature"
    assert reason_of(urlencode({**fields, "signature": ""}), third_party=True) == (
        "missing_signature"
    )
    # Valid bot-token HMAC is no substitute for the signature in third-party mode.
    assert reason_of(signed(), third_party=True) == "missing_signature"


def test_third_party_forged_signature(telegram_keys: dict[str, Ed25519PrivateKey]) -> None:
    forger = Ed25519PrivateKey.generate()
    raw = third_party_sign(tp_fields(), forger)
    assert reason_of(raw, third_party=True) == "bad_signature"
    fields = fields_of(third_party_sign(tp_fields(), telegram_keys["prod"]))
    sig = fields["signature"]
    fields["signature"] = ("B" if sig[0] != "B" else "C") + sig[1:]
    assert reason_of(urlencode(fields), third_party=True) == "bad_signature"
    fields["signature"] = "A" * 86
    assert reason_of(urlencode(fields), third_party=True) == "bad_signature"


def test_third_party_changed_field(telegram_keys: dict[str, Ed25519PrivateKey]) -> None:
    fields = fields_of(third_party_sign(tp_fields(), telegram_keys["prod"]))
    fields["user"] = fields["user"].replace('"Ann"', '"Eve"')
    assert reason_of(urlencode(fields), third_party=True) == "bad_signature"
    fields = fields_of(third_party_sign(tp_fields(), telegram_keys["prod"]))
    fields["start_param"] = "admin"
    assert reason_of(urlencode(fields), third_party=True) == "bad_signature"


def test_third_party_other_bot_id(telegram_keys: dict[str, Ed25519PrivateKey]) -> None:
    raw = third_party_sign(tp_fields(), telegram_keys["prod"], bot_id=BOT_ID + 1)
    assert reason_of(raw, third_party=True) == "bad_signature"
    assert validate(raw, f"{BOT_ID + 1}:x", third_party=True).user.id == USER["id"]


def test_third_party_expired_and_bad_user(telegram_keys: dict[str, Ed25519PrivateKey]) -> None:
    raw = third_party_sign(tp_fields(), telegram_keys["prod"])
    assert reason_of(raw, now=NOW + timedelta(days=2), third_party=True) == "expired"
    bad = third_party_sign(tp_fields(user='{"id":"x"}'), telegram_keys["prod"])
    assert reason_of(bad, third_party=True) == "bad_user"


def test_bot_id_from_token() -> None:
    assert bot_id_from_token("7342037359:AAHI25ES9x") == 7342037359
    for bad in ("", "abc:def", ":x", "12a:x", "-5:x"):
        with pytest.raises(ValueError):
            bot_id_from_token(bad)


# ---------------------------------------------------------------------------------------
# Vectors from an independent implementation (the test suite of the JavaScript package
# @telegram-apps/init-data-node): the hand-written algorithm above must agree with them.
# ---------------------------------------------------------------------------------------

TGAPPS_TOKEN = "5768337691:AAH5YkoiEuPk8-FZa32hStHTqXiLPtAEhx8"
TGAPPS_SIGNED = (
    "can_send_after=10000&chat=%7B%22id%22%3A1%2C%22type%22%3A%22group%22%2C%22username%22"
    "%3A%22my-chat%22%2C%22title%22%3A%22chat-title%22%2C%22photo_url%22%3A%22chat-photo%22"
    "%7D&chat_instance=888&chat_type=sender&query_id=QUERY&receiver=%7B%22added_to_attachment"
    "_menu%22%3Afalse%2C%22allows_write_to_pm%22%3Atrue%2C%22first_name%22%3A%22receiver-"
    "first-name%22%2C%22id%22%3A991%2C%22is_bot%22%3Afalse%2C%22is_premium%22%3Atrue%2C%22"
    "language_code%22%3A%22ru%22%2C%22last_name%22%3A%22receiver-last-name%22%2C%22photo_url"
    "%22%3A%22receiver-photo%22%2C%22username%22%3A%22receiver-username%22%7D&start_param="
    "debug&user=%7B%22added_to_attachment_menu%22%3Afalse%2C%22allows_write_to_pm%22%3Afalse"
    "%2C%22first_name%22%3A%22user-first-name%22%2C%22id%22%3A222%2C%22is_bot%22%3Atrue%2C"
    "%22is_premium%22%3Afalse%2C%22language_code%22%3A%22en%22%2C%22last_name%22%3A%22user-"
    "last-name%22%2C%22photo_url%22%3A%22user-photo%22%2C%22username%22%3A%22user-username"
    "%22%7D&signature=abc&auth_date=1"
    "&hash=cb81cd88e9cc232953c788ebbce5c53d4100b11672af19165a5d24f45dae46be"
)


def test_secret_key_and_hmac_match_an_independent_implementation() -> None:
    secret = hmac.new(b"WebAppData", b"my-secret-token", hashlib.sha256).digest()
    assert secret.hex() == "fe37f490481d351837ed49f3b369c886c61013d6d036656fc3c9c92e163e3477"
    assert hmac.new(secret, b"abc", hashlib.sha256).hexdigest() == (
        "6ecc2e9b51f30dde6877ce374ede54eb626c84e78a5d9a9dcac54d2d248f6bde"
    )


def test_independently_signed_init_data_is_accepted() -> None:
    fields = fields_of(TGAPPS_SIGNED)
    assert fields.pop("hash") == hand_hash(fields, TGAPPS_TOKEN)
    data = validate(TGAPPS_SIGNED, TGAPPS_TOKEN, max_age=None)
    assert (data.user.id, data.query_id, data.start_param) == (222, "QUERY", "debug")
    assert reason_of(TGAPPS_SIGNED, TGAPPS_TOKEN) == "expired"
    assert reason_of(TGAPPS_SIGNED.replace("debug", "admin"), TGAPPS_TOKEN, max_age=None) == (
        "bad_hash"
    )
