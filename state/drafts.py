"""Clearing a form draft kept in the browser (components/form_draft.py) after its submit."""

from __future__ import annotations

from typing import Any

import reflex as rx


def clear_draft(name: str) -> Any:
    """Yield it from the submit's handler once the action is done: the inputs and their
    sessionStorage copy are emptied, and Telegram no longer asks before closing."""
    return rx.call_script(f"window.appDrafts && window.appDrafts.clear({name!r})")
