"""GET /metrics exposes the cache counters per policy in Prometheus' text format."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.domain import db as db_module
from app.domain import queries
from app.domain.migrate import upgrade
from app.domain.seed import seed
from tests.support.settings import reset_caches


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[db_module.Database]:
    url = f"sqlite:///{tmp_path / 'metrics.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("REDIS_URL", "")
    monkeypatch.setenv("APP_ENV", "dev")
    monkeypatch.setenv("BOT_TOKEN", "1:metrics")
    reset_caches()
    upgrade(url)
    database = db_module.get_database()
    seed(database, users=10, transactions=40, quiet=True)
    yield database
    database.dispose()
    reset_caches()


def _sample(text: str, name: str, policy: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels.get("policy") == policy:
                return sample.value
    return 0.0


def test_metrics_count_hits_misses_and_loads(app_db: db_module.Database) -> None:
    from app.api import build_api

    client = TestClient(build_api())
    before = client.get("/metrics").text
    queries.feed_page(app_db)  # miss and load
    queries.feed_page(app_db)  # hit
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text
    for name, grew_by in (
        ("cache_hits_total", 1),
        ("cache_misses_total", 1),
        ("cache_loads_total", 1),
    ):
        assert _sample(after, name, "feed") - _sample(before, name, "feed") == grew_by
    assert _sample(after, "cache_load_seconds_count", "feed") >= 1
