"""Every screen in Telegram's light and dark themes: screenshots, and colours from themeParams."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.telegram.launch import THEMES

pytestmark = pytest.mark.e2e
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screens"
SCREENS = (
    ("home", "/", "#claim"),
    ("feed", "/feed", "#feed-list .feed-row"),
    ("leaderboard", "/leaderboard", "#leaders"),
    ("market", "/market", "#items"),
    ("item", "/market/2", "#buy"),
    ("profile", "/profile", "#history"),
    ("send", "/profile/send", "#send"),
)


def _rgb(hex_color: str) -> str:
    red, green, blue = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


# The page background, the tab bar, what covers the top corner, and every text that shows
# a name, a title or a description.
COLORS = """() => {
  const style = (el) => getComputedStyle(el);
  const texts = [...document.querySelectorAll(
    '.screen-title, .member-name, .feed-title, .leader-name, .item-title, .item-description'
  )].map((el) => style(el).color);
  return {
    page: style(document.body).backgroundColor,
    tab: style(document.querySelector('.tab-bar')).backgroundColor,
    corner: style(document.elementFromPoint(2, 2)).backgroundColor,
    texts,
  };
}"""


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_screens_follow_the_theme_parameters(app_server, browser, theme: str) -> None:
    params = THEMES[theme]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    page.goto(app_server.launch_url("carol", theme=theme))
    page.locator("#member-name").wait_for(timeout=15_000)
    for name, route, ready in SCREENS:
        page.goto(app_server.url + route)
        page.locator(ready).first.wait_for(timeout=15_000)
        page.wait_for_timeout(300)  # images and fonts settle before the picture
        page.screenshot(path=str(ARTIFACTS / f"{name}-{theme}.png"))
        colors = page.evaluate(COLORS)
        assert colors["page"] == _rgb(params["secondary_bg_color"]), (name, theme)
        assert colors["tab"] == _rgb(params["section_bg_color"]), (name, theme)
        # Whatever paints the screen's top left corner shows the theme's background.
        assert colors["corner"] in (_rgb(params["secondary_bg_color"]), "rgba(0, 0, 0, 0)")
        assert set(colors["texts"]) == {_rgb(params["text_color"])}, (name, theme, colors)
    context.close()
