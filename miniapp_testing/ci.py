"""What a missing tool or service means: a skip on a laptop, a failure under CI."""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    """The one reading of CI, for the kit and the project's own service checks."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def missing(what: str) -> None:
    """Skip on a laptop without the tool; fail under CI, where it must be there."""
    if in_ci():
        pytest.fail(f"{what} (required under CI)")
    pytest.skip(what)
