"""Home screen: banners, balance, daily reward, latest activity."""

from __future__ import annotations

import reflex as rx

from app.pages.registry import Page
from components.feed_list import feed_row
from components.layout import error_message, loaded_list, notice, primary_button
from components.nav import Tab
from components.session_gate import member_header
from state.home import HOME_LATEST, BannerCard, HomeState


def banner_card(banner: BannerCard) -> rx.Component:
    return rx.box(
        rx.image(src=banner.image, alt=banner.title, loading="lazy", class_name="banner-image"),
        rx.box(
            rx.text(banner.title, class_name="banner-title"),
            rx.text(banner.subtitle, class_name="banner-subtitle"),
            class_name="banner-text",
        ),
        class_name="banner",
    )


def home() -> rx.Component:
    return rx.fragment(
        member_header(),
        rx.cond(
            HomeState.banners.length() > 0,
            rx.box(rx.foreach(HomeState.banners, banner_card), class_name="carousel"),
        ),
        error_message(HomeState.error),
        notice(HomeState.notice),
        primary_button(
            rx.cond(
                HomeState.claimed_today,
                "Today's reward claimed",
                rx.text.span("Claim today's ", HomeState.reward_amount, " points"),
            ),
            on_click=HomeState.claim,
            loading=HomeState.claiming,
            disabled=HomeState.claimed_today,
            id="claim",
        ),
        rx.heading("Latest", size="4", class_name="section-title"),
        loaded_list(
            HomeState.loaded, HomeState.latest, feed_row, list_id="latest", skeleton_rows=3
        ),
        rx.link("See the whole feed", href="/feed", id="to-feed"),
    )


PAGE = Page(
    "/",
    "Community",
    home,
    tab=Tab("home", "house", "Home"),
    on_ready=(HomeState.load,),
    live=(HOME_LATEST,),
)
