"""Language choice, plural forms and number formatting, the way browsers' Intl does them.

The page formats with `Intl.PluralRules` and `Intl.NumberFormat`; the bot has no browser,
so the two rules it needs are written out here (and tested against the same cases).
"""

from __future__ import annotations

SUPPORTED = ("en", "ru")


def language(code: str | None) -> str:
    """The catalog's language for a Telegram `language_code` ("ru", "ru-RU", "en-US", None)."""
    if not code:
        return "en"
    base = code.strip().lower().replace("_", "-").split("-", 1)[0]
    return base if base in SUPPORTED else "en"


def plural_category(n: int, lang: str) -> str:
    """CLDR's category of the integer `n`: en has one/other; ru one/few/many."""
    n = abs(n)
    if lang == "ru":
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
            return "few"
        return "many"
    return "one" if n == 1 else "other"


def format_number(n: int, lang: str) -> str:
    """Grouped digits: 12,345 in English, 12 345 in Russian (a no-break space, as Intl)."""
    grouped = f"{n:,}"
    return grouped.replace(",", "\u00a0") if lang == "ru" else grouped
