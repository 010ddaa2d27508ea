"""Generated SVG art for the demo market and banners, so the demo needs no downloads."""

from __future__ import annotations

from html import escape
from pathlib import Path

ASSETS = Path(__file__).resolve().parents[2] / "assets"

PALETTES = [
    ("#5b8def", "#8e5bef"),
    ("#ef8e5b", "#ef5b8e"),
    ("#37b38a", "#2f8fd0"),
    ("#f2b441", "#ef6a5b"),
    ("#7a5bef", "#3ec7e0"),
    ("#e05b9b", "#f2b441"),
]


def item_svg(symbol: str, label: str, palette: int) -> str:
    start, end = PALETTES[palette % len(PALETTES)]
    return f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" role="img"
 aria-label="{escape(label)}">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
<stop offset="0" stop-color="{start}"/><stop offset="1" stop-color="{end}"/></linearGradient></defs>
<rect width="400" height="300" fill="url(#g)"/>
<circle cx="330" cy="50" r="90" fill="#fff" fill-opacity=".12"/>
<circle cx="60" cy="270" r="70" fill="#fff" fill-opacity=".10"/>
<text x="200" y="175" font-size="120" text-anchor="middle" font-family="sans-serif">{symbol}</text>
</svg>
"""


def banner_svg(title: str, palette: int) -> str:
    start, end = PALETTES[palette % len(PALETTES)]
    return f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 320" role="img"
 aria-label="{escape(title)}">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="0">
<stop offset="0" stop-color="{start}"/><stop offset="1" stop-color="{end}"/></linearGradient></defs>
<rect width="800" height="320" fill="url(#g)"/>
<circle cx="700" cy="40" r="160" fill="#fff" fill-opacity=".12"/>
<circle cx="80" cy="330" r="120" fill="#fff" fill-opacity=".10"/>
</svg>
"""


def write_art(items: list[tuple[str, str, str]], banners: list[tuple[str, str]]) -> None:
    """items: (file, symbol, title); banners: (file, title). Writes only missing files."""
    for index, (name, symbol, title) in enumerate(items):
        path = ASSETS / "demo" / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(item_svg(symbol, title, index), encoding="utf-8")
    for index, (name, title) in enumerate(banners):
        path = ASSETS / "demo" / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(banner_svg(title, index + 2), encoding="utf-8")
