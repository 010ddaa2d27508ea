"""assets/storage.js: CloudStorage's call shapes over /cache, exercised in the page."""

from __future__ import annotations

import pytest

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
