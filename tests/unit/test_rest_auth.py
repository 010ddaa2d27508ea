"""REST auth (`Authorization: tma <initData>`) and the dev launch, through FastAPI's
TestClient on the real app (build_api) and a fresh, migrated SQLite file per test."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from pydantic import ValidationError

from app.api import build_api
from app.domain import migrate
from app.domain.db import get_database
from app.domain.seed import seed
from app.domain.users import WELCOME_BONUS, find_by_username
from app.settings import Settings
from app.telegram.init_data import REASONS, validate_init_data
from app.telegram.signing import sign_init_data
from tests.support.settings import Configure

TOKEN = "1234567890:AAF-rest-test-token"
USER: dict[str, Any] = {"id": 7_000_000_123, "first_name": "Ann", "last_name": "Lee"}


@pytest.fixture
def configure(configure: Configure, tmp_path: Path) -> Configure:
    """Environment for one test: a fresh migrated SQLite file, no .env, no Redis."""
    url = f"sqlite:///{tmp_path / 'api.db'}"
    migrate.upgrade(url)
    configure(database_url=url)
    return configure


@pytest.fixture
def client(configure: Configure, tmp_path: Path) -> Iterator[TestClient]:
    # The dev launch only exists with the generated dev token: hand it a known one.
    token_file = tmp_path / "dev-bot-token"
    token_file.write_text(TOKEN)
    configure(app_env="dev", bot_token="", dev_token_file=str(token_file))
    with TestClient(build_api(), follow_redirects=False) as test_client:
        yield test_client


def test_no_dev_launch_with_a_real_bot_token(configure: Configure) -> None:
    """With a real bot's token, /dev/launch would let anyone act as any real user."""
    configure(app_env="dev", bot_token=TOKEN)
    with TestClient(build_api(), follow_redirects=False) as client:
        assert client.get("/dev/launch?user=alice").status_code == 404
        assert "/dev/launch" not in build_api().openapi()["paths"]


def tma(raw: str) -> dict[str, str]:
    return {"Authorization": f"tma {raw}"}


def assert_unauthorized(response: Response, reason: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()
    assert body == {"error": "unauthorized", "reason": reason, "message": body["message"]}
    assert body["message"]
    if response.request.headers.get("authorization", "").strip().lower().startswith("tma "):
        # Rejected by validation (not by the header check): the validator's message.
        assert body["message"] == REASONS[reason]
    assert response.headers["www-authenticate"] == "tma"


# ---------------------------------------------------------------------------------------
# GET /me
# ---------------------------------------------------------------------------------------


def test_me_with_valid_init_data(client: TestClient) -> None:
    response = client.get("/me", headers=tma(sign_init_data(USER, TOKEN)))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == USER["id"]
    assert body["name"] == "Ann Lee"
    assert body["balance"] == WELCOME_BONUS == 100
    assert body["is_admin"] is False
    # The welcome bonus is paid once, however often the member comes back.
    again = client.get("/me", headers=tma(sign_init_data(USER, TOKEN)))
    assert again.json()["balance"] == 100


def test_me_scheme_is_case_insensitive_and_whitespace_tolerant(client: TestClient) -> None:
    raw = sign_init_data(USER, TOKEN)
    response = client.get("/me", headers={"Authorization": f"  TMA {raw}  "})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == USER["id"]


def test_me_reports_admins(configure: Configure) -> None:
    configure(app_env="dev", bot_token=TOKEN, admin_ids=f"1, {USER['id']},3")
    with TestClient(build_api()) as client:
        body = client.get("/me", headers=tma(sign_init_data(USER, TOKEN))).json()
    assert body["is_admin"] is True


def test_me_without_header(client: TestClient) -> None:
    assert_unauthorized(client.get("/me"), "missing")
    assert_unauthorized(client.get("/me", headers={"Authorization": ""}), "missing")


@pytest.mark.parametrize(
    "value", ["Bearer x", "Bearer " + "a" * 40, "tma", "tma ", "tma    ", "Basic dG1hOng=", "x"]
)
def test_me_with_wrong_scheme(client: TestClient, value: str) -> None:
    assert_unauthorized(client.get("/me", headers={"Authorization": value}), "malformed")


def test_me_with_valid_init_data_under_another_scheme(client: TestClient) -> None:
    raw = sign_init_data(USER, TOKEN)
    response = client.get("/me", headers={"Authorization": f"Bearer {raw}"})
    assert_unauthorized(response, "malformed")


def test_me_with_forged_init_data(client: TestClient) -> None:
    fields = dict(parse_qsl(sign_init_data(USER, TOKEN)))
    fields["user"] = fields["user"].replace(str(USER["id"]), "1000001")
    assert_unauthorized(client.get("/me", headers=tma(urlencode(fields))), "bad_hash")


def test_me_with_another_bots_init_data(client: TestClient) -> None:
    raw = sign_init_data(USER, "999:another-bot")
    assert_unauthorized(client.get("/me", headers=tma(raw)), "bad_hash")


def test_me_with_expired_init_data(client: TestClient) -> None:
    raw = sign_init_data(USER, TOKEN, auth_date=int(time.time()) - 2 * 86400)
    assert_unauthorized(client.get("/me", headers=tma(raw)), "expired")


def test_me_with_init_data_dated_in_the_future(client: TestClient) -> None:
    """Signed for the year 9999: refused, not valid for the next eight thousand years."""
    raw = sign_init_data(USER, TOKEN, auth_date=253_402_214_400)
    assert_unauthorized(client.get("/me", headers=tma(raw)), "future")
    # A clock a little ahead is normal.
    assert (
        client.get(
            "/me", headers=tma(sign_init_data(USER, TOKEN, auth_date=int(time.time()) + 60))
        ).status_code
        == 200
    )


def test_me_with_a_user_id_past_telegrams_52_bits(client: TestClient) -> None:
    raw = sign_init_data({**USER, "id": 2**52}, TOKEN)
    assert_unauthorized(client.get("/me", headers=tma(raw)), "bad_user")


@pytest.mark.parametrize(
    ("amount", "why"),
    [("true", "a JSON true"), ("1.0", "a float"), ("NaN", "NaN"), ("Infinity", "infinity")],
)
def test_a_transfer_amount_must_be_a_whole_number(
    client: TestClient, amount: str, why: str
) -> None:
    client.get("/me", headers=tma(sign_init_data(USER, TOKEN)))  # registers Ann
    # Written by hand: json.dumps would not send NaN as the hostile client did.
    body = f'{{"to": "@nobody_here", "amount": {amount}, "idempotency_key": "strict-amount-key"}}'
    answer = client.post(
        "/api/transfers",
        content=body,
        headers={**tma(sign_init_data(USER, TOKEN)), "Content-Type": "application/json"},
    )
    assert answer.status_code == 422, (why, answer.text)
    assert answer.json()["error"] == "invalid_request"


def test_me_with_missing_hash(client: TestClient) -> None:
    fields = dict(parse_qsl(sign_init_data(USER, TOKEN)))
    del fields["hash"]
    assert_unauthorized(client.get("/me", headers=tma(urlencode(fields))), "missing_hash")


def test_me_with_duplicate_keys(client: TestClient) -> None:
    raw = sign_init_data(USER, TOKEN)
    other = urlencode({"user": '{"id":1000001,"first_name":"Alice"}'})
    assert_unauthorized(client.get("/me", headers=tma(f"{raw}&{other}")), "duplicate_key")


@pytest.mark.parametrize("garbage", ["%%%", "=", "a=1&&b", "&&&", "{}", "null", "tma"])
def test_me_with_garbage(client: TestClient, garbage: str) -> None:
    assert_unauthorized(client.get("/me", headers=tma(garbage)), "malformed")


def test_me_with_non_ascii_header_bytes_is_401_not_500(client: TestClient) -> None:
    # Header bytes reach the app as latin-1 text; a non-ASCII hash once crashed compare_digest.
    raw = f"auth_date={int(time.time())}&user=%7B%22id%22%3A1%7D&hash=\xe9\xe9".encode("latin-1")
    response = client.get("/me", headers={"Authorization": b"tma " + raw})
    assert_unauthorized(response, "bad_hash")


def test_me_with_one_megabyte_header(client: TestClient) -> None:
    huge = "user=" + "A" * (1024 * 1024)
    started = time.perf_counter()
    response = client.get("/me", headers=tma(huge))
    assert time.perf_counter() - started < 2.0
    assert_unauthorized(response, "too_large")


def test_me_with_valid_signature_but_bad_user(client: TestClient) -> None:
    fields = {"auth_date": str(int(time.time())), "user": '{"first_name":"NoId"}'}
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    check = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    assert_unauthorized(client.get("/me", headers=tma(urlencode(fields))), "bad_user")


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json()["database"]["ok"] is True


# ---------------------------------------------------------------------------------------
# GET /dev/launch
# ---------------------------------------------------------------------------------------


def launch_params(response: Response) -> dict[str, str]:
    assert response.status_code == 307, response.text
    location = urlsplit(response.headers["location"])
    assert (location.scheme, location.netloc, location.path) == ("", "", "/")
    return dict(parse_qsl(location.fragment, strict_parsing=True))


@pytest.fixture
def seeded_client(client: TestClient) -> TestClient:
    seed(get_database(), users=20, transactions=50, quiet=True)
    return client


def test_dev_launch_signs_in_as_the_seeded_member(seeded_client: TestClient) -> None:
    alice = find_by_username(get_database(), "alice")
    assert alice is not None
    params = launch_params(seeded_client.get("/dev/launch", params={"user": "alice"}))
    assert params["tgWebAppVersion"] == "8.0"
    assert params["tgWebAppPlatform"] == "tdesktop"
    assert "bg_color" in params["tgWebAppThemeParams"]
    data = validate_init_data(params["tgWebAppData"], TOKEN)
    assert data.user.id == alice.id
    assert data.user.username == "alice"
    assert (data.user.first_name, data.user.last_name) == ("Alice", "Martin")
    # The same initData authenticates the REST API as alice, with her seeded balance.
    me = seeded_client.get("/me", headers=tma(params["tgWebAppData"]))
    assert me.status_code == 200, me.text
    assert (me.json()["id"], me.json()["balance"]) == (alice.id, alice.balance)
    assert me.json()["name"] == "Alice Martin"


def test_dev_launch_finds_usernames_case_insensitively(seeded_client: TestClient) -> None:
    bob = find_by_username(get_database(), "bob")
    assert bob is not None
    for name in ("Bob", "@bob", " BOB "):
        params = launch_params(seeded_client.get("/dev/launch", params={"user": name}))
        assert validate_init_data(params["tgWebAppData"], TOKEN).user.id == bob.id


def test_dev_launch_theme_and_platform(seeded_client: TestClient) -> None:
    response = seeded_client.get(
        "/dev/launch",
        params={"user": "alice", "theme": "dark", "platform": "ios", "version": "7.10"},
    )
    params = launch_params(response)
    assert params["tgWebAppPlatform"] == "ios"
    assert params["tgWebAppVersion"] == "7.10"
    assert '"bg_color":"#212121"' in params["tgWebAppThemeParams"]


def test_dev_launch_for_a_new_name_gives_a_stable_new_member(client: TestClient) -> None:
    first = launch_params(client.get("/dev/launch", params={"user": "zed_newcomer"}))
    second = launch_params(client.get("/dev/launch", params={"user": "zed_newcomer"}))
    one = validate_init_data(first["tgWebAppData"], TOKEN).user
    two = validate_init_data(second["tgWebAppData"], TOKEN).user
    assert one.id == two.id >= 7_000_000_000
    assert one.username == "zed_newcomer"
    me = client.get("/me", headers=tma(first["tgWebAppData"]))
    assert (me.json()["id"], me.json()["balance"]) == (one.id, 100)


@pytest.mark.parametrize("name", ["a", "ab", "../../etc", "al ice", "1alice", "@", "", "é" * 5])
def test_dev_launch_with_a_bad_user_is_400(seeded_client: TestClient, name: str) -> None:
    response = seeded_client.get("/dev/launch", params={"user": name})
    assert response.status_code == 400, response.text


@pytest.mark.parametrize(
    "params",
    [
        {"user": "a" * 65},
        {"user": "alice", "theme": "purple"},
        {"user": "alice", "version": "latest"},
        {"user": "alice", "platform": "x" * 33},
    ],
)
def test_dev_launch_with_bad_parameters_is_a_client_error(
    seeded_client: TestClient, params: dict[str, str]
) -> None:
    response = seeded_client.get("/dev/launch", params=params)
    assert 400 <= response.status_code < 500, response.text


def test_dev_launch_without_bot_token_uses_the_dev_token(
    configure: Configure, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "dev-bot-token"
    configure(app_env="dev", dev_token_file=str(path))
    with TestClient(build_api(), follow_redirects=False) as client:
        params = launch_params(client.get("/dev/launch", params={"user": "carol"}))
        token = path.read_text()
        assert validate_init_data(params["tgWebAppData"], token).user.username == "carol"
        assert client.get("/me", headers=tma(params["tgWebAppData"])).status_code == 200


# ---------------------------------------------------------------------------------------
# Production
# ---------------------------------------------------------------------------------------


def test_prod_has_no_dev_launch(configure: Configure) -> None:
    configure(app_env="prod", bot_token=TOKEN)
    api = build_api()
    assert not [path for path in api.openapi()["paths"] if path.startswith("/dev")]
    with TestClient(api, follow_redirects=False) as client:
        assert client.get("/dev/launch", params={"user": "alice"}).status_code == 404
        assert client.get("/dev/launch").status_code == 404
        me = client.get("/me", headers=tma(sign_init_data(USER, TOKEN)))
        assert me.status_code == 200, me.text
        assert_unauthorized(client.get("/me"), "missing")


def test_dev_has_the_dev_launch_route(configure: Configure) -> None:
    configure(app_env="dev")
    assert {"/dev/launch", "/me", "/health"} <= set(build_api().openapi()["paths"])


def test_prod_without_bot_token_cannot_build_the_api(configure: Configure) -> None:
    configure(app_env="dev")  # valid so far
    with pytest.raises(ValidationError, match="BOT_TOKEN"):
        configure(app_env="prod")
    with pytest.raises(ValidationError, match="BOT_TOKEN"):
        build_api()
    with pytest.raises(ValidationError, match="BOT_TOKEN"):
        Settings(app_env="prod")
