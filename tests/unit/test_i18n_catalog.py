"""The catalog: every key in every language, placeholders alike, plural forms complete."""

from __future__ import annotations

import string

import pytest

from app.i18n import CATALOG, LANGUAGES, format_number, language, plural_category, translate

PLURAL_FORMS = {"en": {"one", "other"}, "ru": {"one", "few", "many"}}


def _placeholders(text: str | dict[str, str]) -> set[str]:
    texts = text.values() if isinstance(text, dict) else [text]
    return {name for t in texts for _, name, _, _ in string.Formatter().parse(t) if name}


@pytest.mark.parametrize("key", sorted(CATALOG))
def test_every_key_has_every_language_with_the_same_placeholders(key: str) -> None:
    texts = CATALOG[key]
    assert set(texts) == set(LANGUAGES), f"{key}: {sorted(texts)}"
    for lang, text in texts.items():
        if isinstance(text, dict):
            assert set(text) == PLURAL_FORMS[lang], f"{key} [{lang}]: {sorted(text)}"
            assert all(t.strip() for t in text.values())
        else:
            assert text.strip(), f"{key} [{lang}] is empty"
    english = _placeholders(texts["en"])
    for lang in LANGUAGES:
        assert _placeholders(texts[lang]) == english, f"{key} [{lang}]"


@pytest.mark.parametrize(
    ("code", "lang"),
    [
        ("ru", "ru"),
        ("ru-RU", "ru"),
        ("RU_ru", "ru"),
        ("en", "en"),
        ("en-US", "en"),
        ("uk", "en"),
        ("", "en"),
        (None, "en"),
        ("x" * 40, "en"),
    ],
)
def test_language_from_a_telegram_language_code(code: str | None, lang: str) -> None:
    assert language(code) == lang


@pytest.mark.parametrize(
    ("n", "category"),
    [
        (1, "one"),
        (21, "one"),
        (2, "few"),
        (4, "few"),
        (22, "few"),
        (5, "many"),
        (11, "many"),
        (12, "many"),
        (14, "many"),
        (0, "many"),
        (111, "many"),
        (101, "one"),
        (-3, "few"),
    ],
)
def test_russian_plural_categories_match_cldr(n: int, category: str) -> None:
    assert plural_category(n, "ru") == category


def test_counts_and_numbers_are_localized() -> None:
    assert translate("common.points", "en", count=1) == "1 point"
    assert translate("common.points", "en", count=12345) == "12,345 points"
    assert translate("common.points", "ru", count=3) == "3 балла"
    assert translate("common.points", "ru-RU", count=12345) == "12\u00a0345 баллов"
    assert format_number(-1234, "ru") == "-1\u00a0234"


def test_a_missing_key_or_language_falls_back() -> None:
    assert translate("no.such.key", "ru") == "no.such.key"
    assert translate("common.points", "de", count=2) == "2 points"
