"""Strings every screen shares."""

from __future__ import annotations

MESSAGES = {
    "common.points": {
        "en": {"one": "{count} point", "other": "{count} points"},
        "ru": {"one": "{count} балл", "few": "{count} балла", "many": "{count} баллов"},
    },
}
