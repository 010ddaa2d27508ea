"""What a member's phone pays for the Mini App: first-load bytes, time to data, click to update.

    .venv/bin/python -m bench.frontend                   # 20 cold + 20 warm opens, 50 clicks
    .venv/bin/python -m bench.frontend --runs 5 --clicks 20
    .venv/bin/python -m bench.frontend --json frontend.json
    .venv/bin/python -m bench.frontend --network loopback,4g,slow4g --runs 10 --clicks 20

Starts the app once exactly as `make run` serves it (`reflex run --env prod --single-port`,
production build, seeded SQLite, in-process cache, no Redis) in a temp folder with
miniapp_testing.AppServer, then drives headless Chromium, once per `--network` profile
(bench/network.py): `loopback` is the machine's own floor; `4g` and `slow4g` are a phone on
a mobile network. For those the app is built for and served through bench/link_proxy.py, a
relay that delays each direction by RTT/2 and paces the bytes on one link shared by every
connection, WebSocket included (Chromium's Network.emulateNetworkConditions left the
socket's frames undelayed), and every page's CPU is slowed through DevTools
(Emulation.setCPUThrottlingRate). With a throttled profile in the list, `loopback` goes
through the relay too, with no delay. Four measurements per profile:

1. First load, cold: every run opens a new browser context (empty HTTP cache, no storage,
   a new Reflex session) at the dev launch link `/dev/launch?user=alice`, which signs
   initData on the server and redirects (307) to `/#tgWebAppData=...`, as a Telegram client
   opens the app with its launch parameters in the hash. The first screen a member sees is
   Home (a new session goes to the member's remembered screen, and alice is only ever opened
   here, so it stays Home); its first data row is `#latest .feed-row`. The same is measured
   for the Feed (`/feed#<launch hash>`, member carol, `#feed-list .feed-row`).
   Warm: the page is closed and the same link opened in a new page of the same context
   (HTTP cache warm, new tab so a new Reflex session, as when Telegram reopens the app).
   The hashed build files (/assets/) come `immutable`, so they should be reused unasked;
   the unhashed ones (HTML, telegram-web-app.js, storage.js, styles.css) carry no
   Cache-Control, so Chromium's heuristic freshness (the files' age) decides whether they
   are revalidated (304). The table says which happened.
   One cold open before the measured ones is reported apart: the first open after the app
   started (the app warms its shared caches at start, in the background).
2. Bytes: Chrome DevTools Protocol `Network.*` events of that page. Per response, wire bytes
   are `loadingFinished.encodedDataLength` (status line + headers + body as sent, so gzip
   bodies count compressed) plus the redirect's `redirectResponse.encodedDataLength`; decoded
   bytes are the sum of `dataReceived.dataLength`. Counted until first data is on screen and
   the network has been idle 500 ms (lazy banner images included). WebSocket: payload bytes
   of the socket.io frames in both directions (CDP sees payloads after any
   permessage-deflate; the handshake response says whether that was negotiated).
3. Click to update: member bob opens the app, taps the Leaderboard tab, and then taps
   "This week" / "Balance" alternately. Each tap is a real Playwright click; the time is
   measured in the page: from the click event's `timeStamp` (capture listener) to the
   MutationObserver callback in which `#leaders` shows different rows (and, separately, to
   the tapped segment being checked), so Playwright's own latency is not counted. The
   server serves the board from its cache (TTL 60 s) after the first tap of each period.

4. Resume after minimize to fresh data: bench/resume.py's plain cycles (bob on the Feed in
   the kit's Telegram client, minimized 2 s while another member sends him a point, then
   restored; fresh = his new balance and the note on screen, timed in the page), under
   the profile (`--resumes`, 10 by default).

Time to first data: `performance.now()` in the page (time origin = navigation start, which
for a same-origin redirect is before the redirect, so the redirect is included). "DOM" is the
MutationObserver callback in which the first row exists with text and a non-empty box;
"painted" is a task queued from the next animation frame after that (the frame has been
produced). Milestones in the same clock show where the time goes: redirect end, HTML
response end, DOMContentLoaded, WebSocket created and open (a wrapper around
window.WebSocket installed by an init script), the hydrate sent (it rides in socket.io's
CONNECT packet once React has mounted; initData goes with it, and the member and the
screen's data come back in one delta), first row. A
"wall" row (Python `perf_counter` from `page.goto` until the page reports the painted row)
is printed for comparison; it includes Playwright's polling.

Prints p50 / p95 / min / max (p95 by nearest rank); on a 2-core machine other work shifts
the tails, so run it on a quiet machine and compare p50s.

`--against REF` compares instead: REF is checked out in a git worktree and built beside
this checkout, both apps serve at once, and cold opens of Home and the Feed alternate
between them (who goes first alternates too), so a change is measured against its base
under the same machine load in one run: p50/p95 of each and the ratio of their p50s, per
`--network` profile.

At the end: one table, p50 / p95 per profile, and issue 15's targets, met or not.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import httpx

from bench.link_proxy import LinkProxy
from bench.network import PROFILES, Profile, emulate, parse_profiles
from bench.worktree import checkout_of
from miniapp_testing.plugin import CHROMIUM, CHROMIUM_ARGS, PHONE
from miniapp_testing.ports import free_port
from miniapp_testing.project import Project
from miniapp_testing.server import AppServer

ROOT = Path(__file__).resolve().parents[1]

VIEWPORT = PHONE
TARGET_MS = 1000.0  # issue 5: first data on screen within 1 s on this machine
STEP_TIMEOUT_MS = 30_000
CLICK_TIMEOUT_MS = 10_000
CATEGORIES = ("document", "script", "stylesheet", "font", "image", "fetch/xhr", "other")
CDP_TYPES = {
    "Document": "document",
    "Script": "script",
    "Stylesheet": "stylesheet",
    "Font": "font",
    "Image": "image",
    "Fetch": "fetch/xhr",
    "XHR": "fetch/xhr",
}

# Installed before any page script: records, in the page's performance.now() clock, when
# the first data row exists, when the next frame after it has been produced, and what the
# socket.io WebSocket did (opened, which events were sent).
PAGE_PROBE = """
(() => {
  const fe = (window.__fe = { sent: [], ws: null, row: null, painted: null, inView: null });
  const Native = window.WebSocket;
  function Probe(url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    const rec = { created: performance.now(), open: null, firstMessage: null };
    fe.ws = fe.ws || rec;
    ws.addEventListener('open', () => { rec.open = performance.now(); });
    ws.addEventListener('message', () => { rec.firstMessage ??= performance.now(); });
    const send = ws.send.bind(ws);
    ws.send = (data) => {
      const m = typeof data === 'string' && data.match(/"name":"([^"]+)"/);
      if (m) fe.sent.push([m[1], performance.now()]);
      return send(data);
    };
    return ws;
  }
  Probe.prototype = Native.prototype;
  for (const k of ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED']) Probe[k] = Native[k];
  window.WebSocket = Probe;
  const selector = window.__feSelector || '.feed-row';
  const check = () => {
    if (fe.row !== null) return;
    const el = document.querySelector(selector);
    if (!el || !el.textContent.trim()) return;
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) return;
    fe.row = performance.now();
    fe.inView = box.top < window.innerHeight;
    requestAnimationFrame(() => setTimeout(() => { fe.painted = performance.now(); }, 0));
    observer.disconnect();
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { childList: true, subtree: true, characterData: true });
})();
"""

READ_MARKS = """
() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fe = window.__fe;
  const sent = (part) => (fe.sent.find(([name]) => name.includes(part)) || [null, null])[1];
  return {
    row: fe.row, painted: fe.painted, in_view: fe.inView,
    redirect_end: nav.redirectEnd || null, html_end: nav.responseEnd,
    dom_content_loaded: nav.domContentLoadedEventEnd,
    ws_created: fe.ws && fe.ws.created, ws_open: fe.ws && fe.ws.open,
    hydrate_sent: sent('hydrate_and_load'),
  };
}
"""

# One click measured in the page: the click event's timestamp (capture phase, same clock as
# performance.now()) to the mutation that shows other rows in #leaders / checks the segment.
CLICK_PROBE = """
(label) => new Promise((resolve) => {
  const rows = () => {
    const list = document.querySelector('#leaders');
    if (list) return list.innerText;
    const empty = document.querySelector('.gate-open .empty');
    return empty ? 'empty:' + empty.innerText : null;
  };
  const target = [...document.querySelectorAll('#period [role=radio]')]
    .find((b) => b.innerText.trim().startsWith(label));
  if (!target) { resolve({ error: 'no segment labelled ' + label }); return; }
  const before = rows();
  const r = { clicked: null, checked: null, rows: null, painted: null };
  const onClick = (e) => { if (target.contains(e.target)) r.clicked = e.timeStamp; };
  document.addEventListener('click', onClick, true);
  const done = (result) => {
    observer.disconnect(); clearTimeout(timer);
    document.removeEventListener('click', onClick, true);
    resolve(result);
  };
  const observer = new MutationObserver(() => {
    const now = performance.now();
    if (r.clicked === null) return;
    if (r.checked === null && target.getAttribute('aria-checked') === 'true') r.checked = now;
    const current = rows();
    if (r.rows === null && current !== null && current !== before) r.rows = now;
    if (r.rows !== null && r.checked !== null) {
      observer.disconnect();
      requestAnimationFrame(() => setTimeout(() => { r.painted = performance.now(); done(r); }, 0));
    }
  });
  observer.observe(document.body, {
    childList: true, subtree: true, characterData: true, attributes: true,
  });
  const timer = setTimeout(() => done({ ...r, error: 'no update within TIMEOUT ms' }), TIMEOUT);
})
""".replace("TIMEOUT", str(CLICK_TIMEOUT_MS))


class BenchError(RuntimeError):
    pass


@dataclass
class Transfer:
    """What one page load moved over the network, from CDP Network events."""

    wire: Counter[str] = field(default_factory=Counter)
    decoded: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    ws_sent: int = 0
    ws_received: int = 0
    ws_frames: int = 0
    ws_deflate: bool | None = None
    not_modified: int = 0
    from_cache: int = 0
    encodings: Counter[str] = field(default_factory=Counter)
    uncompressed: list[tuple[str, int]] = field(default_factory=list)
    paths: dict[str, str] = field(default_factory=dict)  # url path -> content-encoding

    @property
    def wire_total(self) -> int:
        return sum(self.wire.values())

    @property
    def decoded_total(self) -> int:
        return sum(self.decoded.values())


class NetRecorder:
    def __init__(self, cdp: Any) -> None:
        self.t = Transfer()
        self._kind: dict[str, str] = {}
        self._response: dict[str, dict[str, Any]] = {}
        self._cached_ids: set[str] = set()
        self._not_modified: set[str] = set()
        self._inflight: set[str] = set()
        self._last_activity = time.perf_counter()
        on = cdp.on
        on("Network.requestWillBeSent", self._request)
        on("Network.responseReceived", self._response_received)
        on("Network.dataReceived", self._data)
        on("Network.loadingFinished", self._finished)
        on("Network.loadingFailed", self._failed)
        on("Network.requestServedFromCache", self._cached)
        on("Network.responseReceivedExtraInfo", self._extra_info)
        on("Network.webSocketHandshakeResponseReceived", self._handshake)
        on("Network.webSocketFrameSent", self._frame_sent)
        on("Network.webSocketFrameReceived", self._frame_received)
        cdp.send("Network.enable")

    def wait_idle(self, page: Any, quiet_ms: float = 500) -> None:
        """Until no HTTP request is in flight and none started for `quiet_ms` (the banners
        are lazy images requested only once the screen's data has rendered). Playwright's
        "networkidle" is no use here: it may have been reached before the data arrived."""
        deadline = time.perf_counter() + STEP_TIMEOUT_MS / 1000
        while time.perf_counter() < deadline:
            page.wait_for_timeout(100)  # CDP events are dispatched while Playwright waits
            idle_ms = (time.perf_counter() - self._last_activity) * 1000
            if not self._inflight and idle_ms >= quiet_ms:
                return
        # Bytes of a page that never goes idle are counted up to the timeout.

    def _activity(self, rid: str, start: bool) -> None:
        self._last_activity = time.perf_counter()
        if start:
            self._inflight.add(rid)
        else:
            self._inflight.discard(rid)

    def _failed(self, p: dict[str, Any]) -> None:
        self._activity(p["requestId"], start=False)

    def _request(self, p: dict[str, Any]) -> None:
        self._activity(p["requestId"], start=True)
        redirect = p.get("redirectResponse")
        if redirect:  # the 307 of /dev/launch: its bytes are the document's too
            kind = self._kind.get(p["requestId"], "document")
            self.t.wire[kind] += int(redirect.get("encodedDataLength", 0))
            self.t.requests[kind] += 1
        self._kind[p["requestId"]] = CDP_TYPES.get(p.get("type", ""), "other")

    def _response_received(self, p: dict[str, Any]) -> None:
        self._kind[p["requestId"]] = CDP_TYPES.get(p.get("type", ""), "other")
        self._response[p["requestId"]] = p["response"]
        if p["response"].get("fromDiskCache") or p["response"].get("fromMemoryCache"):
            self._cached_ids.add(p["requestId"])

    def _data(self, p: dict[str, Any]) -> None:
        self.t.decoded[self._kind.get(p["requestId"], "other")] += int(p.get("dataLength", 0))

    def _extra_info(self, p: dict[str, Any]) -> None:
        # A revalidated response shows as the cached 200 in responseReceived; the status
        # that crossed the wire (304) is only here.
        if p.get("statusCode") == 304:
            self._not_modified.add(p["requestId"])
            self.t.not_modified = len(self._not_modified)

    def _cached(self, p: dict[str, Any]) -> None:
        self._cached_ids.add(p["requestId"])
        self.t.from_cache = len(self._cached_ids)

    def _finished(self, p: dict[str, Any]) -> None:
        rid = p["requestId"]
        self._activity(rid, start=False)
        kind = self._kind.get(rid, "other")
        size = int(p.get("encodedDataLength", 0))
        self.t.wire[kind] += size
        self.t.requests[kind] += 1
        response = self._response.get(rid)
        if response is None:
            return
        if rid in self._cached_ids:
            self.t.from_cache = len(self._cached_ids)
            return
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        encoding = headers.get("content-encoding", "identity")
        self.t.encodings[encoding] += 1
        path = urlsplit(response.get("url", "")).path
        self.t.paths[path] = encoding
        if encoding == "identity" and size > 1024:
            self.t.uncompressed.append((path, size))

    def _handshake(self, p: dict[str, Any]) -> None:
        headers = {k.lower(): v for k, v in p["response"].get("headers", {}).items()}
        self.t.ws_deflate = "permessage-deflate" in headers.get("sec-websocket-extensions", "")

    def _frame_sent(self, p: dict[str, Any]) -> None:
        self.t.ws_sent += len(p["response"].get("payloadData", "").encode())
        self.t.ws_frames += 1

    def _frame_received(self, p: dict[str, Any]) -> None:
        self.t.ws_received += len(p["response"].get("payloadData", "").encode())
        self.t.ws_frames += 1


@dataclass
class Load:
    marks: dict[str, Any]
    wall_ms: float
    net: Transfer


def open_screen(context: Any, url: str, selector: str, profile: Profile) -> Load:
    """Open `url` in a new page of `context` under `profile` and wait for the first data row
    on screen."""
    page = context.new_page()
    try:
        page.add_init_script(f"window.__feSelector = {json.dumps(selector)};" + PAGE_PROBE)
        cdp = context.new_cdp_session(page)
        net = NetRecorder(cdp)
        emulate(cdp, profile)
        started = time.perf_counter()
        page.goto(url, timeout=STEP_TIMEOUT_MS, wait_until="commit")
        try:
            page.wait_for_function(
                "window.__fe && window.__fe.painted !== null", timeout=STEP_TIMEOUT_MS, polling=5
            )
        except Exception as exc:
            raise BenchError(
                f"no {selector} on screen within {STEP_TIMEOUT_MS} ms at {page.url}: "
                f"{type(exc).__name__}: {str(exc)[:200]}\n"
                f"page says: {page.locator('body').inner_text(timeout=2000)[:300]!r}"
            ) from None
        wall_ms = (time.perf_counter() - started) * 1000
        net.wait_idle(page)
        marks = page.evaluate(READ_MARKS)
        return Load(marks, wall_ms, net.t)
    finally:
        page.close()


def launch_hash(server: AppServer, user: str) -> str:
    """The URL hash Telegram would pass, as /dev/launch builds it (without following it)."""
    response = httpx.get(server.launch_url(user), follow_redirects=False, timeout=10)
    location = response.headers.get("location", "")
    if response.status_code != 307 or "#" not in location:
        raise BenchError(f"/dev/launch?user={user} answered {response.status_code} {location!r}")
    return location.split("#", 1)[1]


def cold_screens(server: AppServer) -> dict[str, tuple[str, str]]:
    """What is opened cold, as (url, first-data selector): Home as alice and the Feed as
    carol, each with the launch parameters Telegram would pass."""
    return {
        "home cold": (server.launch_url("alice"), "#latest .feed-row"),
        "feed cold": (f"{server.url}/feed#{launch_hash(server, 'carol')}", "#feed-list .feed-row"),
    }


def open_cold(browser: Any, target: tuple[str, str], profile: Profile) -> Load:
    """`target` (url, selector) in a new context: empty cache and storage."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        return open_screen(context, *target, profile)
    finally:
        context.close()


def measure_loads(
    browser: Any, server: AppServer, runs: int, profile: Profile
) -> dict[str, list[Load]]:
    results: dict[str, list[Load]] = defaultdict(list)
    for i in range(runs + 1):  # run 0: the server's first (cold caches), reported apart
        screens = cold_screens(server)
        for screen in ("home", "feed"):
            if screen == "feed" and not i:
                continue
            target = screens[f"{screen} cold"]
            context = browser.new_context(viewport=VIEWPORT)
            try:
                cold = open_screen(context, *target, profile)
                results[f"{screen} cold" if i else "home, first after start"].append(cold)
                if i:
                    results[f"{screen} warm"].append(open_screen(context, *target, profile))
            finally:
                context.close()
        print(f"  {profile.name}: load run {i}/{runs}", end="\r", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return results


def measure_side_by_side(
    browser: Any, servers: dict[str, AppServer], runs: int, profile: Profile
) -> dict[str, dict[str, list[float]]]:
    """Cold opens of both builds in turn (who goes first alternates each round), so both
    meet the same machine load; painted first data, per build and screen."""
    out: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in servers}
    names = list(servers)
    for i in range(runs + 1):  # round 0 pays each server's first-open costs: not counted
        for name in names if i % 2 else names[::-1]:
            for screen, target in cold_screens(servers[name]).items():
                load = open_cold(browser, target, profile)
                if i:
                    out[name][screen].append(float(load.marks["painted"]))
        print(
            f"  {profile.name}: side-by-side round {i}/{runs}",
            end="\r",
            file=sys.stderr,
            flush=True,
        )
    print(file=sys.stderr)
    return out


def report_side_by_side(times: dict[str, dict[str, list[float]]], extra: dict) -> dict:
    (ref, theirs), (here, ours) = times.items()
    before, after = extra["load_average_before"], extra["load_average_after"]
    print(f"\n===== {extra['profile']} =====")
    print(
        f"Side by side: {ref} and {here}, {extra['runs']} cold opens each per screen, "
        f"alternating; load average {before[0]:.1f} before, {after[0]:.1f} after, "
        f"on {os.cpu_count()} CPUs"
    )
    print(header("First data on screen (painted), cold"))
    out: dict[str, Any] = {**extra}
    for screen in ("home cold", "feed cold"):
        a, b = theirs[screen], ours[screen]
        print(fmt_row(f"{screen}: {ref}", a))
        print(fmt_row(f"{screen}: {here}", b))
        ratio = statistics.median(a) / statistics.median(b)
        print(
            f"  p50 {statistics.median(b):.0f} ms here vs {statistics.median(a):.0f} ms at "
            f"{ref}: {ratio:.2f}x as fast"
        )
        out[screen] = {ref: summary(a), here: summary(b), "p50 ratio": ratio}
    return out


def measure_clicks(
    browser: Any, server: AppServer, clicks: int, profile: Profile
) -> dict[str, list[float]]:
    context = browser.new_context(viewport=VIEWPORT)
    out: dict[str, list[float]] = defaultdict(list)
    try:
        page = context.new_page()
        emulate(context.new_cdp_session(page), profile)
        page.goto(server.launch_url("bob"), timeout=STEP_TIMEOUT_MS)
        page.locator("#tab-leaderboard").click(timeout=STEP_TIMEOUT_MS)
        page.locator("#leaders .leader-row").first.wait_for(timeout=STEP_TIMEOUT_MS)
        segments = page.locator("#period [role=radio]")
        labels = ("This week", "Balance")
        for i in range(clicks + 2):  # the first two fill the server's cache for each period
            label = labels[i % 2]
            # The probe is armed (not awaited) before the click, then awaited after it.
            page.evaluate(f"label => {{ window.__feClick = ({CLICK_PROBE})(label); }}", label)
            segments.filter(has_text=label).click(timeout=CLICK_TIMEOUT_MS)
            r = page.evaluate("window.__feClick")
            if r.get("error") or r.get("clicked") is None:
                raise BenchError(f"click {i} on {label!r}: {r.get('error') or 'no click seen'}")
            key = "first" if i < 2 else "steady"
            out[f"{key}:rows"].append(r["rows"] - r["clicked"])
            out[f"{key}:checked"].append(r["checked"] - r["clicked"])
            out[f"{key}:painted"].append(r["painted"] - r["clicked"])
            page.wait_for_timeout(50)
    finally:
        context.close()
    return out


def measure_resume(
    browser: Any, server: AppServer, cycles: int, profile: Profile
) -> dict[str, list[Any]]:
    """Resume after minimize to fresh data under `profile`: bench/resume.py's plain cycles
    (bob on the Feed minimized 2 s, a transfer to him meanwhile, restore; fresh = his new
    balance and the note on screen, timed in the page from the restore). The page is opened
    unthrottled and the profile applied before the first minimize: only the resume counts."""
    from bench.resume import Bench, Cycle
    from bench.resume import parse_args as resume_args

    bench = Bench(resume_args(["--restart-every", "0"]), server, browser)
    out: dict[str, list[Any]] = {"fresh": [], "failures": []}

    def reopen() -> None:
        bench.open_page()
        emulate(bench.context.new_cdp_session(bench.page), profile)

    reopen()
    try:
        for index in range(1, cycles + 1):
            cycle = Cycle(index, "plain")
            try:
                bench.run_cycle(cycle)
                out["fresh"].append(cycle.fresh_ms)
            except Exception as exc:  # a failed cycle is a figure too: listed, page reopened
                out["failures"].append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
                reopen()
            print(
                f"  {profile.name}: resume {index}/{cycles}", end="\r", file=sys.stderr, flush=True
            )
    finally:
        bench.context.close()
    print(file=sys.stderr)
    return out


def brotli_sizes(files: list[Path]) -> dict[str, int]:
    """Sizes the same files would have as brotli (quality 11), using the venv's Node."""
    node = Path(sys.executable).parent / "node"
    script = (
        "const z=require('zlib'),fs=require('fs');const o={};"
        "for(const f of JSON.parse(process.argv[1]))o[f]=z.brotliCompressSync(fs.readFileSync(f),"
        "{params:{[z.constants.BROTLI_PARAM_QUALITY]:11}}).length;"
        "console.log(JSON.stringify(o))"
    )
    try:
        done = subprocess.run(
            [
                str(node if node.exists() else "node"),
                "-e",
                script,
                json.dumps(list(map(str, files))),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return {}
    return json.loads(done.stdout)


def compression_check(sample: Transfer) -> dict[str, Any]:
    """gzip sidecars as served vs brotli of the same files (what `frontend_compression_formats`
    with "brotli" would serve to a browser that accepts br)."""
    static = ROOT / ".web" / "build" / "client"
    gz, files = 0, []
    for path, encoding in sample.paths.items():
        source = static / (path.strip("/") or "index.html")
        if encoding == "gzip" and Path(f"{source}.gz").is_file():
            gz += Path(f"{source}.gz").stat().st_size
            files.append(source)
    raw = sum(f.stat().st_size for f in files)
    br = brotli_sizes(files)
    return {
        "static_files": len(files),
        "raw_bytes": raw,
        "gzip_bytes": gz,
        "brotli_bytes": sum(br.values()) if br else None,
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": statistics.median(values),
        "p95": pct(values, 95),
        "min": min(values),
        "max": max(values),
    }


def fmt_row(label: str, values: list[float], unit: str = "ms", scale: float = 1.0) -> str:
    s = summary([v / scale for v in values])
    nums = " ".join(f"{s[k]:>8.1f}" for k in STATS)
    return f"{label:<44} {unit:>4} {nums} {s['n']:>4}"


STATS = ("p50", "p95", "min", "max")


def header(title: str) -> str:
    cols = " ".join(f"{c:>8}" for c in STATS)
    return f"\n{title}\n{'':<44} {'unit':>4} {cols} {'n':>4}\n{'-' * 86}"


def mark_deltas(loads: list[Load]) -> dict[str, list[float]]:
    series: dict[str, list[float]] = defaultdict(list)
    for load in loads:
        m = load.marks
        for name in (
            "redirect_end",
            "html_end",
            "dom_content_loaded",
            "ws_created",
            "ws_open",
            "hydrate_sent",
            "row",
            "painted",
        ):
            if m.get(name) is not None:
                series[name].append(float(m[name]))
        series["wall"].append(load.wall_ms)
    return series


MARK_LABELS = {
    "redirect_end": "  redirect (/dev/launch 307) done",
    "html_end": "  HTML received",
    "dom_content_loaded": "  DOMContentLoaded (scripts run)",
    "ws_created": "  WebSocket created (client booted)",
    "ws_open": "  WebSocket open",
    "hydrate_sent": "  hydrate sent (React mounted)",
    "row": "  first row in the DOM",
    "painted": "first data on screen (painted)",
    "wall": "  wall clock, Playwright goto -> row seen",
}


def report(
    loads: dict[str, list[Load]],
    clicks: dict[str, list[float]],
    resume: dict[str, list[Any]],
    extra: dict,
    profile: Profile,
) -> dict:
    out: dict[str, Any] = {"target_ms": TARGET_MS, "profile": profile.describe(), **extra}
    before, after = extra["load_average_before"], extra["load_average_after"]
    print(f"\n===== {profile.describe()} =====")
    print(
        f"{extra['runs']} cold + warm opens per screen, {extra['clicks']} taps, "
        f"{len(resume['fresh']) + len(resume['failures'])} resumes; load average "
        f"(1/5/15 min) {'/'.join(f'{x:.1f}' for x in before)} before, "
        f"{'/'.join(f'{x:.1f}' for x in after)} after, on {os.cpu_count()} CPUs"
    )
    print(header("Time to first data on screen (performance.now() from navigation start)"))
    for name in ("home cold", "home warm", "feed cold", "feed warm", "home, first after start"):
        series = mark_deltas(loads[name])
        out[name] = {k: summary(v) for k, v in series.items()}
        out[name]["first row in the viewport"] = sum(bool(x.marks["in_view"]) for x in loads[name])
        print(f"{name} ({'new context' if 'warm' not in name else 'same context, new tab'})")
        for key, label in MARK_LABELS.items():
            if series.get(key):
                print(fmt_row(label, series[key]))
    print(header("Bytes of the first load, cold (wire = headers + body as sent)"))
    cold, warm, feed = loads["home cold"], loads["home warm"], loads["feed cold"]
    sample = max(cold, key=lambda load: sum(load.net.requests.values())).net

    def kb(label: str, values: list[int]) -> None:
        print(fmt_row(label, [float(v) for v in values], "KB", 1024))

    for kind in CATEGORIES:
        if any(load.net.wire[kind] for load in cold):
            kb(f"{kind} ({sample.requests[kind]} requests)", [x.net.wire[kind] for x in cold])
    kb("websocket payload, both ways", [x.net.ws_sent + x.net.ws_received for x in cold])
    kb("total over HTTP (wire)", [x.net.wire_total for x in cold])
    kb("total over HTTP (decoded)", [x.net.decoded_total for x in cold])
    kb("warm open: total over HTTP (wire)", [x.net.wire_total for x in warm])
    kb("feed, cold: total over HTTP (wire)", [x.net.wire_total for x in feed])
    warm_304 = statistics.median(x.net.not_modified for x in warm)
    warm_cached = statistics.median(x.net.from_cache for x in warm)
    out["bytes"] = {
        "home cold wire": summary([x.net.wire_total for x in cold]),
        "home cold decoded": summary([x.net.decoded_total for x in cold]),
        "home cold by kind": {k: summary([x.net.wire[k] for x in cold]) for k in CATEGORIES},
        "home cold requests": dict(sample.requests),
        "websocket payload": summary([x.net.ws_sent + x.net.ws_received for x in cold]),
        "websocket permessage-deflate": sample.ws_deflate,
        "home warm wire": summary([x.net.wire_total for x in warm]),
        "home warm 304s, median": warm_304,
        "home warm served from cache, median": warm_cached,
        "feed cold wire": summary([x.net.wire_total for x in feed]),
        "content-encoding": dict(sample.encodings),
        "uncompressed over 1 KB": sample.uncompressed,
    }
    comp = extra["compression"]
    encodings = ", ".join(f"{k} {v}" for k, v in sample.encodings.most_common())
    print(f"\nContent-Encoding of the cold load's responses: {encodings}")
    big = ", ".join(f"{p} ({n} B)" for p, n in sample.uncompressed) or "none"
    print(f"responses over 1 KB sent without compression: {big}")
    print(
        f"WebSocket permessage-deflate: {'yes' if sample.ws_deflate else 'no'}; "
        f"warm open (median): {warm_304:g} revalidated (304), "
        f"{warm_cached:g} reused from the HTTP cache unasked"
    )
    if comp["static_files"]:
        br = comp["brotli_bytes"]
        print(
            f"the {comp['static_files']} static files it fetched: "
            f"{comp['raw_bytes'] / 1024:.1f} KB raw, "
            f"{comp['gzip_bytes'] / 1024:.1f} KB as the gzip sidecars served"
            + (f", {br / 1024:.1f} KB as brotli-11" if br else "")
        )
    print(header("Click to update: Leaderboard 'This week' <-> 'Balance' (click event -> DOM)"))
    out["click"] = {}
    for key, label in (
        ("steady:rows", "rows replaced (server round trip)"),
        ("steady:checked", "  tapped segment checked"),
        ("steady:painted", "  next frame after rows replaced"),
        ("first:rows", "first tap of each period (cache fill)"),
    ):
        if clicks.get(key):
            out["click"][key] = summary(clicks[key])
            print(fmt_row(label, clicks[key]))
    if profile.throttled and clicks.get("steady:rows"):
        # The socket's frames cross the relay like everything else; a tap's round trip
        # faster than the RTT would mean something went around it.
        rows_p50 = statistics.median(clicks["steady:rows"])
        print(
            f"WebSocket frames delayed by the link: {'yes' if rows_p50 >= profile.rtt_ms else 'NO'}"
            f" (a tap's server round trip p50 {rows_p50:.0f} ms vs {profile.rtt_ms:g} ms RTT)"
        )
    print(header("Resume after minimize to fresh data (restore -> new balance and note)"))
    if resume["fresh"]:
        out["resume"] = {"fresh": summary(resume["fresh"])}
        print(fmt_row("restore -> fresh data on screen", resume["fresh"]))
    out.setdefault("resume", {})["failures"] = resume["failures"]
    for failure in resume["failures"]:
        print(f"  failed: {failure}")
    p50 = out["home cold"]["painted"]["p50"]
    p95 = out["home cold"]["painted"]["p95"]
    verdict = (
        "met" if p95 <= TARGET_MS else ("met at p50, not p95" if p50 <= TARGET_MS else "NOT met")
    )
    print(
        f"\nfirst data on screen, Home, cold: p50 {p50:.0f} ms, p95 {p95:.0f} ms"
        f" -> 1 s bar {verdict}"
    )
    out["verdict"] = verdict
    return out


# Issue 15's targets: (profile, what, where in that profile's figures, limit). The first
# load's bytes do not depend on the profile: judged on the first profile measured (None).
TARGETS: tuple[tuple[str | None, str, tuple[str, ...], float], ...] = (
    ("slow4g", "Home cold, first data p50 (ms)", ("home cold", "painted", "p50"), 2500),
    ("slow4g", "Home warm, first data p50 (ms)", ("home warm", "painted", "p50"), 1200),
    ("slow4g", "resume to fresh data p95 (ms)", ("resume", "fresh", "p95"), 500),
    ("loopback", "Home cold, first data p50 (ms)", ("home cold", "painted", "p50"), 500),
    (None, "first load, Home cold (KB on the wire)", ("bytes", "home cold wire", "p50"), 150),
)


def dig(figures: dict[str, Any], path: tuple[str, ...]) -> float | None:
    node: Any = figures
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return float(node) if isinstance(node, int | float) else None


def verdicts(
    by_profile: dict[str, dict[str, Any]],
) -> list[tuple[str, str, float | None, float, bool | None]]:
    """(profile, what, measured, limit, met) for each target whose profile was measured;
    measured None (met None) when the figure is missing, e.g. every resume failed."""
    out: list[tuple[str, str, float | None, float, bool | None]] = []
    for name, what, path, limit in TARGETS:
        name = name or next(iter(by_profile), None)
        if name is None or name not in by_profile:
            continue
        value = dig(by_profile[name], path)
        if value is not None and path[0] == "bytes":
            value /= 1024
        out.append((name, what, value, limit, None if value is None else value <= limit))
    return out


OVERVIEW_ROWS: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("Home cold, first data (ms)", ("home cold", "painted"), 1),
    ("Home warm, first data (ms)", ("home warm", "painted"), 1),
    ("Feed cold, first data (ms)", ("feed cold", "painted"), 1),
    ("Feed warm, first data (ms)", ("feed warm", "painted"), 1),
    ("Home cold, WebSocket open (ms)", ("home cold", "ws_open"), 1),
    ("Home cold, hydrate sent (ms)", ("home cold", "hydrate_sent"), 1),
    ("resume to fresh data (ms)", ("resume", "fresh"), 1),
    ("tap to update (ms)", ("click", "steady:rows"), 1),
    ("first load, Home cold (KB wire)", ("bytes", "home cold wire"), 1024),
    ("first load, Home cold (KB decoded)", ("bytes", "home cold decoded"), 1024),
)


def overview(by_profile: dict[str, dict[str, Any]]) -> None:
    """One table, a column pair (p50 p95) per profile, and the issue's targets."""
    names = list(by_profile)
    print("\n===== Per profile (p50 / p95) =====")
    print(f"{'':<36}" + "".join(f"{n:>18}" for n in names))
    for label, path, scale in OVERVIEW_ROWS:
        cells = []
        for n in names:
            p50, p95 = dig(by_profile[n], (*path, "p50")), dig(by_profile[n], (*path, "p95"))
            cells.append(
                "-" if p50 is None or p95 is None else f"{p50 / scale:.0f} / {p95 / scale:.0f}"
            )
        print(f"{label:<36}" + "".join(f"{c:>18}" for c in cells))
    print("\nIssue 15's targets:")
    for name, what, value, limit, met in verdicts(by_profile):
        shown = "-" if value is None else f"{value:.0f}"
        state = {True: "met", False: "NOT met", None: "not measured"}[met]
        print(f"  {name:<9} {what:<40} {shown:>7} <= {limit:g}: {state}")


class Via:
    """`server` as the browser reaches it through `proxy`: the same app at the relay's
    address (what the app was built to be reached at, PUBLIC_URL)."""

    def __init__(self, server: AppServer, proxy: LinkProxy) -> None:
        self._server, self._proxy = server, proxy

    @property
    def url(self) -> str:
        return self._proxy.url

    def launch_url(self, user: str = "", **params: str) -> str:
        direct = self._server.launch_url(user, **params)
        return self._proxy.url + direct.removeprefix(self._server.url)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)


def relayed(
    workdir: Path, relay: bool, project: Project | None = None
) -> tuple[AppServer, LinkProxy | None]:
    """An app to start, and with `relay` the link proxy in front of it that it is built
    for (PUBLIC_URL is the relay's address: the socket URL and the allowed origin)."""
    options: dict[str, Any] = {"project": project} if project else {}
    if not relay:
        return AppServer(workdir, **options), None
    port = free_port()
    proxy = LinkProxy(target=port, port=free_port())
    return AppServer(workdir, port=port, extra_env={"PUBLIC_URL": proxy.url}, **options), proxy


def site(server: AppServer, proxy: LinkProxy | None, profile: Profile) -> AppServer:
    """What the browser opens under `profile`: the relay, switched to it, or the app."""
    if proxy is None:
        return server
    proxy.use(profile)
    return cast(AppServer, Via(server, proxy))  # same interface, another address


def network_profiles(text: str) -> list[Profile]:
    try:
        return parse_profiles(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=20, help="cold (and warm) opens per screen")
    parser.add_argument("--clicks", type=int, default=50, help="measured taps on the leaderboard")
    parser.add_argument(
        "--resumes", type=int, default=10, help="resumes after minimize per profile (0: none)"
    )
    parser.add_argument(
        "--network",
        type=network_profiles,
        default=[PROFILES["loopback"]],
        help=f"comma-separated profiles, measured in turn ({', '.join(PROFILES)}; "
        "default loopback)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--port",
        type=int,
        help="measure an app already serving on this port (started as AppServer does, with "
        "/dev/launch and the seeded members) instead of starting one",
    )
    parser.add_argument(
        "--against",
        metavar="REF",
        help="compare with another commit instead: build it in a git worktree, serve both, "
        "and alternate cold opens of Home and the Feed between them (about 3 min more)",
    )
    args = parser.parse_args()
    if args.against and args.port:
        parser.error("--against starts both apps itself: leave out --port")
    relay = any(profile.throttled for profile in args.network)
    if relay and args.port:
        parser.error(
            "a throttled --network profile serves the app through a relay the app is built "
            "for (PUBLIC_URL): leave out --port"
        )
    if args.runs < 1 or args.clicks < 1 or args.resumes < 0:
        parser.error("--runs and --clicks must be at least 1, --resumes at least 0")
    if not Path(CHROMIUM).exists():
        sys.exit(f"no Chromium at {CHROMIUM} (set CHROMIUM_PATH)")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    # SIGTERM unwinds like Ctrl-C, so the app is stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    if args.against:
        side_by_side(args)
        return
    measured: list[tuple[Profile, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="bench-frontend-") as tmp:
        if args.port:
            server, proxy = AppServer(Path(tmp), port=args.port), None
        else:
            server, proxy = relayed(Path(tmp), relay)
        try:
            started = time.perf_counter()
            if not args.port:
                server.seed()
                print("starting the app (production build, about a minute) ...", file=sys.stderr)
                server.start()
            start_s = time.perf_counter() - started
            print(f"app serving at {server.url} after {start_s:.1f} s", file=sys.stderr)
            if proxy is not None:
                proxy.start()
                print(f"every profile goes through the relay at {proxy.url}", file=sys.stderr)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    for profile in args.network:
                        load_before = os.getloadavg()
                        at = site(server, proxy, profile)
                        loads = measure_loads(browser, at, args.runs, profile)
                        clicks = measure_clicks(browser, at, args.clicks, profile)
                        resume = (
                            measure_resume(browser, at, args.resumes, profile)
                            if args.resumes
                            else {"fresh": [], "failures": []}
                        )
                        extra = {
                            "runs": args.runs,
                            "clicks": args.clicks,
                            "app_start_s": start_s,
                            "load_average_before": load_before,
                            "load_average_after": os.getloadavg(),
                            "compression": compression_check(
                                max(
                                    loads["home cold"], key=lambda x: sum(x.net.requests.values())
                                ).net
                            ),
                        }
                        measured.append((profile, report(loads, clicks, resume, extra, profile)))
                finally:
                    browser.close()
        except (BenchError, PlaywrightError) as exc:
            sys.exit(f"bench/frontend.py: {exc}\n--- app log tail ---\n{server.tail(2000)}")
        finally:
            server.stop()
            if proxy is not None:
                proxy.stop()
    by_profile = {profile.name: figures for profile, figures in measured}
    overview(by_profile)
    if args.json:
        args.json.write_text(json.dumps({"profiles": by_profile}, indent=2, default=str))
        print(f"figures written to {args.json}")


def side_by_side(args: argparse.Namespace) -> None:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    here = "this checkout"
    by_profile: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-frontend-") as tmp:
        servers: dict[str, AppServer] = {}
        proxies: dict[str, LinkProxy | None] = {}
        relay = any(profile.throttled for profile in args.network)
        project: Path | None = None
        try:
            project = checkout_of(args.against, Path(tmp))
            for name, root in ((args.against, project), (here, ROOT)):
                folder = Path(tmp) / ("ref" if name == args.against else "here")
                servers[name], proxies[name] = relayed(folder, relay, Project(root=root))
            for name, server in servers.items():
                server.seed()
                print(f"starting {name} (production build) ...", file=sys.stderr)
                server.start()
                if (proxy := proxies[name]) is not None:
                    proxy.start()
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    for profile in args.network:
                        load_before = os.getloadavg()
                        sites = {n: site(s, proxies[n], profile) for n, s in servers.items()}
                        times = measure_side_by_side(browser, sites, args.runs, profile)
                        extra = {
                            "runs": args.runs,
                            "profile": profile.describe(),
                            "load_average_before": load_before,
                            "load_average_after": os.getloadavg(),
                        }
                        by_profile[profile.name] = report_side_by_side(times, extra)
                finally:
                    browser.close()
        except (BenchError, PlaywrightError, subprocess.CalledProcessError) as exc:
            tails = "\n".join(f"--- {n} log tail ---\n{s.tail(1500)}" for n, s in servers.items())
            sys.exit(f"bench/frontend.py: {exc}\n{tails}")
        finally:
            for server in servers.values():
                server.stop()
            for maybe in proxies.values():
                if maybe is not None:
                    maybe.stop()
            if project is not None:
                subprocess.run(
                    ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(project)],
                    check=False,
                    capture_output=True,
                )
    if args.json:
        args.json.write_text(json.dumps({"profiles": by_profile}, indent=2, default=str))
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
