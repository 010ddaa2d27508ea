"""assets/storage.js: CloudStorage's call shapes over /cache, exercised in the page."""

from __future__ import annotations

import httpx
import pytest

from app.cache.store import MAX_KEYS
from miniapp_testing.telegram import launch_hash, sign_init_data

pytestmark = pytest.mark.e2e

# Runs each CloudStorage-style call in turn and collects (error, result) pairs.
SCRIPT = """
async () => {
  const s = window.AppStorage;
  const call = (fn, ...args) => new Promise((resolve) => fn(...args, (e, r) => resolve([e, r])));
  const out = {};
  out.chain = s.setItem("probe", "1", () => {}) === s;
  out.set = await call(s.setItem, "theme", "dark");
  await call(s.setItem, "screen", "market");
  out.get = await call(s.getItem, "theme");
  out.missing = await call(s.getItem, "nope");
  out.items = await call(s.getItems, ["theme", "screen", "nope"]);
  out.keys = await call(s.getKeys);
  out.tooLarge = await call(s.setItem, "big", "x".repeat(4097));
  out.badKey = await call(s.setItem, "bad key!", "x");
  out.remove = await call(s.removeItem, "theme");
  out.removeMany = await call(s.removeItems, ["screen", "probe"]);
  out.after = await call(s.getKeys);
  return out;
}
"""


def test_storage_js_speaks_cloudstorage(app_server, phone_page) -> None:
    phone_page.goto(app_server.launch_url("dave"))
    phone_page.locator("#member-name").wait_for(timeout=15_000)
    phone_page.wait_for_function("window.AppStorage !== undefined")
    out = phone_page.evaluate(SCRIPT)
    assert out["chain"] is True
    assert out["set"] == [None, True]
    assert out["get"] == [None, "dark"]
    assert out["missing"] == [None, ""]
    assert out["items"] == [None, {"theme": "dark", "screen": "market", "nope": ""}]
    assert out["keys"][0] is None
    # The app's own last-screen key lives apart (state/navigation.py): the member's keys only.
    assert sorted(out["keys"][1]) == ["probe", "screen", "theme"]
    assert out["tooLarge"][0] == "value_too_large"
    assert out["badKey"][0] == "invalid_key"
    assert out["remove"] == [None, True]
    assert out["removeMany"] == [None, True]
    assert out["after"] == [None, []]


def test_storage_js_without_initdata_is_unauthorized(app_server, phone_page) -> None:
    phone_page.goto(app_server.url + "/")
    phone_page.locator("#gate").wait_for(timeout=15_000)
    phone_page.wait_for_function("window.AppStorage !== undefined")
    error = phone_page.evaluate(
        "() => new Promise((r) => window.AppStorage.getKeys((e, v) => r(e)))"
    )
    assert error == "unauthorized"


def test_a_full_store_never_breaks_a_screen(app_server, phone_page) -> None:
    """A member who filled all 1,024 keys of their store still gets every screen: the app's
    own last-screen key lives apart and never counts against their quota."""
    user = {"id": 7_300_000_001, "first_name": "Full"}
    init_data = sign_init_data(user, app_server.bot_token)
    with httpx.Client(
        base_url=app_server.url, headers={"Authorization": f"tma {init_data}"}, timeout=30
    ) as client:
        for n in range(MAX_KEYS):
            assert client.put(f"/cache/k{n}", json={"value": "v"}).status_code == 204
        assert client.put("/cache/one-more", json={"value": "v"}).status_code == 409
        phone_page.goto(f"{app_server.url}/#{launch_hash(init_data)}")
        phone_page.locator("#member-name").wait_for(timeout=15_000)
        phone_page.locator("#tab-feed").click()  # a new screen to remember
        phone_page.locator("#feed-list .feed-row").first.wait_for(timeout=15_000)
        assert phone_page.locator("#gate").count() == 0
        assert "An error occurred" not in phone_page.locator("body").inner_text()
        keys = client.get("/cache/").json()["keys"]
    assert len(keys) == MAX_KEYS and "app_screen" not in keys
