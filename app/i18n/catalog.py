"""Every area's MESSAGES, merged into one catalog (keys are unique across areas)."""

from __future__ import annotations

import importlib
import pkgutil

from app.i18n import messages

# A text: a string with {placeholders}, or plural forms by CLDR category.
Text = str | dict[str, str]


def _load() -> dict[str, dict[str, Text]]:
    merged: dict[str, dict[str, Text]] = {}
    for info in sorted(pkgutil.iter_modules(messages.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{messages.__name__}.{info.name}")
        for key, texts in module.MESSAGES.items():
            if key in merged:
                raise ValueError(f"i18n key {key!r} is defined twice ({info.name})")
            merged[key] = texts
    return merged


CATALOG: dict[str, dict[str, Text]] = _load()
