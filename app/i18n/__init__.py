"""The member's language: one catalog of every string the app shows or sends.

Each area keeps its strings in `app/i18n/messages/<area>.py` as `MESSAGES`, a dict from a
key to its text per language; a text is either a string with `{name}` placeholders or, for
a count, a dict of plural forms (`one`, `few`, `many`, `other`, as Unicode's CLDR names
them) chosen by the `count` parameter. A language a key lacks falls back to English, and a
key nobody wrote comes back as itself, so a missing string shows up on screen instead of
breaking it. tests/unit/test_i18n_catalog.py checks that every key has every language.
"""

from __future__ import annotations

from app.i18n.catalog import CATALOG, Text
from app.i18n.locale import SUPPORTED as LANGUAGES
from app.i18n.locale import format_number, language, plural_category

DEFAULT = "en"


def translate(key: str, lang: str | None, /, **params: object) -> str:
    """The text of `key` in `lang` (a Telegram language_code or one of LANGUAGES)."""
    lang = language(lang)
    texts = CATALOG.get(key)
    if texts is None:
        return key
    text = texts.get(lang) or texts.get(DEFAULT) or key
    if isinstance(text, dict):
        count = params.get("count", 0)
        n = count if isinstance(count, int) else 0
        text = text.get(plural_category(n, lang)) or text.get("other") or key
    if not params:
        return text
    shown = {k: format_number(v, lang) if isinstance(v, int) else v for k, v in params.items()}
    try:
        return text.format_map(shown)
    except (KeyError, IndexError, ValueError):
        # A translation that names a placeholder its caller does not pass: the raw text
        # still says something.
        return text


__all__ = [
    "CATALOG",
    "DEFAULT",
    "LANGUAGES",
    "Text",
    "format_number",
    "language",
    "plural_category",
    "translate",
]
