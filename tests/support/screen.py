"""What the e2e tests read off a member's screen, and a transfer from another member."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

import httpx

from miniapp_testing.host import TelegramHost
from miniapp_testing.server import AppServer
from miniapp_testing.telegram import sign_init_data


def send_points(
    miniapp: AppServer, sender: Mapping[str, Any], to: str, amount: int, note: str
) -> None:
    """Another member's transfer, through the app's REST API (not through this page)."""
    init_data = sign_init_data(sender, miniapp.bot_token)
    response = httpx.post(
        f"{miniapp.url}/api/transfers",
        json={"to": f"@{to}", "amount": amount, "note": note, "idempotency_key": uuid.uuid4().hex},
        headers={"Authorization": f"tma {init_data}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text


def shown_balance(page: Any) -> int:
    return int(re.sub(r"\D", "", page.locator("#member-balance").inner_text()))


def wait_for_balance(tg: TelegramHost, balance: int) -> None:
    tg.wait_until(
        "(b) => parseInt((document.querySelector('#member-balance')?.innerText ?? '')"
        ".replace(/\\D/g, '')) === b",
        arg=balance,
        timeout_ms=15_000,
    )


def wait_for_newest_note(tg: TelegramHost, note: str) -> None:
    tg.wait_until(
        "(n) => document.querySelector('#feed-list .feed-row .feed-detail')?.innerText === n",
        arg=note,
        timeout_ms=15_000,
    )


def assert_no_error_on_screen(page: Any) -> None:
    page.wait_for_timeout(1500)  # a banner that lingers would still be there
    assert page.locator("#error").count() == 0
    body = page.locator("body").inner_text()
    assert "Cannot connect" not in body and "Connection Error" not in body, body[:400]
