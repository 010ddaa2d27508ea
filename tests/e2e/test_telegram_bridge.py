"""The bridge inside an emulated Telegram client (the e2e kit), with the official script."""

from __future__ import annotations

import re
import uuid

import pytest

from app.domain.db import Database
from app.domain.market import list_items
from app.domain.users import WELCOME_BONUS, get_profile
from miniapp_testing.telegram import DARK_THEME, LIGHT_THEME

pytestmark = pytest.mark.e2e


def _rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def _style(page, selector: str, prop: str) -> str:
    return page.evaluate(
        "([s, p]) => getComputedStyle(document.querySelector(s))[p]", [selector, prop]
    )


def test_open_posts_ready_expand_and_swipe_behaviour_and_applies_the_theme(
    telegram, member
) -> None:
    tg = telegram(member("alice"), platform="android", version="8.0", theme=DARK_THEME)
    tg.open("/")
    tg.wait_for_posted("web_app_ready")
    types = tg.posted_types()
    assert "web_app_expand" in types
    assert tg.vertical_swipes is False  # disableVerticalSwipes (7.7+)
    # The screen is painted from the themeParams the client passed.
    assert _style(tg.page, "body", "backgroundColor") == _rgb(DARK_THEME["secondary_bg_color"])
    assert _style(tg.page, "#member-name", "color") == _rgb(DARK_THEME["text_color"])
    tg.wait_until("() => document.documentElement.classList.contains('dark')")
    # Safe-area insets from the client reach the layout.
    padding_top = float(_style(tg.page, ".screen", "paddingTop").removesuffix("px"))
    assert padding_top == 12 + 24 + 48


def test_old_client_gets_no_calls_it_does_not_support(telegram, member) -> None:
    tg = telegram(member("alice"), platform="android", version="6.0")
    tg.open("/")
    tg.wait_for_posted("web_app_ready")
    assert "web_app_setup_swipe_behavior" not in tg.posted_types()
    assert tg.vertical_swipes is None


def test_theme_changed_switches_colours_live(telegram, member) -> None:
    tg = telegram(member("alice"), platform="ios", theme=LIGHT_THEME)
    tg.open("/")
    assert _style(tg.page, "body", "backgroundColor") == _rgb(LIGHT_THEME["secondary_bg_color"])
    tg.set_theme("dark")
    tg.wait_until(
        "(c) => getComputedStyle(document.body).backgroundColor === c",
        arg=_rgb(DARK_THEME["secondary_bg_color"]),
    )
    assert _style(tg.page, "#member-name", "color") == _rgb(DARK_THEME["text_color"])
    tg.wait_until("() => document.documentElement.classList.contains('dark')")


def test_back_button_returns_from_item_to_market_and_main_button_buys(
    telegram, member, miniapp
) -> None:
    db = Database(miniapp.database_url)
    # A new member (the welcome bonus is the whole balance) and the cheapest item in stock,
    # so what other tests bought or sent cannot leave this one short.
    newcomer = {"id": 7_000_000 + uuid.uuid4().int % 1_000_000, "first_name": "Nia"}
    item = min((i for i in list_items(db) if i.stock > 0), key=lambda i: i.price)
    assert item.price <= WELCOME_BONUS
    tg = telegram(newcomer, platform="android")
    tg.open("/market", wait_for="#items")
    tg.page.locator(f"#items a[href='/market/{item.id}']").click()
    tg.page.locator("#item-title").wait_for()
    assert tg.back_button_visible
    # Inside Telegram the page's own back link and Buy button give way to the native ones.
    assert not tg.page.locator("#back").is_visible()
    assert not tg.page.locator("#buy").is_visible()
    stock = int(re.sub(r"\D", "", tg.page.locator("#item-stock").inner_text()))
    balance = get_profile(db, newcomer["id"]).balance
    tg.wait_for_main_button(text="Buy", is_visible=True, is_active=True)

    tg.press_main_button()
    tg.page.locator("#notice, #error").first.wait_for()
    assert tg.page.locator("#error").count() == 0, tg.page.locator("#error").inner_text()
    tg.wait_until(
        "(s) => document.querySelector('#item-stock').innerText.startsWith(String(s))",
        arg=stock - 1,
    )
    assert get_profile(db, newcomer["id"]).balance == balance - item.price
    # The result was felt: a success haptic, and the button showed its progress meanwhile.
    # Waited for: the new stock may arrive by a live push before the buy's last delta,
    # which brings the haptic.
    tg.wait_until(
        "() => window.__tgHost.posted.some((e) => e.type === 'web_app_trigger_haptic_feedback'"
        " && e.data && e.data.notification_type === 'success')"
    )
    haptics = tg.posted("web_app_trigger_haptic_feedback")
    assert {"type": "notification", "notification_type": "success"} in haptics
    assert any(setup.get("is_progress_visible") for setup in tg.posted("web_app_setup_main_button"))

    tg.press_back()
    tg.page.wait_for_url(re.compile(r"/market/?$"))
    tg.page.locator("#items").wait_for()
    tg.wait_until("() => !window.__tgHost.backButtonVisible")
    assert tg.main_button.get("is_visible") is False


def test_viewport_and_safe_areas_follow_the_client_live(telegram, member) -> None:
    tg = telegram(member("alice"), platform="ios", viewport_height=700)
    tg.open("/feed", wait_for="#feed-list .feed-row")
    tg.wait_until("() => getComputedStyle(document.querySelector('.screen')).minHeight === '700px'")
    # The keyboard opens: the sheet shrinks; the layout follows the stable height.
    tg.set_viewport(520)
    tg.wait_until("() => getComputedStyle(document.querySelector('.screen')).minHeight === '520px'")
    tg.set_safe_area(top=40, bottom=30)
    tg.set_content_safe_area(top=10)
    tg.wait_until("() => getComputedStyle(document.querySelector('.screen')).paddingTop === '62px'")
    bar_bottom = _style(tg.page, ".tab-bar", "paddingBottom")
    assert bar_bottom == "36px"  # 6 px + the 30 px inset, clear of the home indicator


def test_send_form_asks_before_closing_only_while_it_has_input(telegram, member) -> None:
    tg = telegram(member("bob"), platform="android")
    tg.open("/profile/send")
    assert not tg.closing_confirmation
    tg.wait_for_main_button(text="Send", is_visible=True)
    tg.page.locator("#send-to").fill("@alice")
    tg.wait_until("() => window.__tgHost.closingConfirmation === true")
    tg.page.locator("#send-to").fill("")
    tg.wait_until("() => window.__tgHost.closingConfirmation === false")


def test_domain_error_from_the_main_button_is_shown_and_felt(telegram, member) -> None:
    tg = telegram(member("bob"), platform="android")
    tg.open("/profile/send")
    tg.page.locator("#send-to").fill("@alice")
    tg.page.locator("#send-amount").fill("-5")  # still focused: the MainButton blurs it
    tg.press_main_button()
    tg.page.locator("#error").wait_for()
    assert {"type": "notification", "notification_type": "error"} in tg.posted(
        "web_app_trigger_haptic_feedback"
    )
