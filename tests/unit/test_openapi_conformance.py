"""schemathesis against the API as production builds it: no answer is a server error, every
status is one the schema declares, and every body matches the schema it declares.

`make schemathesis` runs this module alone, with more examples per route."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from app.api import build_api
from app.domain import migrate
from app.domain.seed import seed
from miniapp_testing.telegram import sign_init_data
from tests.support.settings import isolate_settings, reset_caches

TOKEN = "1234567890:AAF-schemathesis-token"
MEMBER = {"id": 7_500_000_001, "first_name": "Fuzz", "username": "fuzz_member"}
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    monkeypatch = pytest.MonkeyPatch()
    isolate_settings(monkeypatch)
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('schemathesis')) / 'api.db'}"
    migrate.upgrade(url)
    for name, value in {"DATABASE_URL": url, "APP_ENV": "prod", "BOT_TOKEN": TOKEN}.items():
        monkeypatch.setenv(name, value)
    reset_caches()
    from app.domain.db import get_database

    seed(get_database(), users=20, transactions=50, quiet=True)
    yield build_api()
    monkeypatch.undo()
    reset_caches()


def test_every_route_keeps_its_schema(api: object) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", api)
    auth = {"Authorization": f"tma {sign_init_data(MEMBER, TOKEN)}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, [op.label for op in operations]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def keeps_its_schema(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=auth, checks=CHECKS)

        keeps_its_schema()
