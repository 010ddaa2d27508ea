"""The bottom tab bar: the app's tab screens (from the page registry), large touch targets,
above the safe area."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import reflex as rx


@dataclass(frozen=True)
class Tab:
    name: str  # the link's id is tab-<name>
    icon: str  # a Lucide icon name
    label: str
    href: str = ""  # set by the registry from the page's route


def tab_bar(active: str, tabs: Sequence[Tab]) -> rx.Component:
    return rx.el.nav(
        *[
            rx.link(
                rx.icon(tab.icon, size=22),
                rx.text(tab.label, class_name="tab-label"),
                href=tab.href,
                class_name="tab tab-active" if tab.name == active else "tab",
                id=f"tab-{tab.name}",
                underline="none",
            )
            for tab in tabs
        ],
        class_name="tab-bar",
    )
