"""Resume after minimize: how often the Mini App comes back live and fresh, and how fast.

    .venv/bin/python -m bench.resume                   # 50 cycles, about 10 min on 2 cores
    .venv/bin/python -m bench.resume --cycles 10 --json resume.json

One app as `make run` serves it (miniapp_testing.AppServer: production build, one port, a
seeded SQLite database in a temporary folder) and one phone page inside the kit's emulated
Telegram client (miniapp_testing.TelegramHost, the official telegram-web-app.js, Bot API 8.0,
android) for one member on the Feed. Each cycle:

1. minimize (`visibility_changed` hidden + the page hidden, as a phone does) and wait until
   the server heard it (`.screen[data-active=false]`);
2. by kind: plain - nothing more; restart (every 5th cycle) - SIGKILL the whole server, start
   it again; offline (cycles 2, 7, 12, ...) - the network cut (HTTP offline, WebSockets
   closed and refused) and back before the restore;
3. meanwhile another member sends this member 1 point with a unique note: over REST
   (`POST /api/transfers`) when the server is up, straight through app.domain.transfers
   while it is down;
4. restore at t0; "fresh" = the new balance in `#member-balance` and the note in the newest
   feed row. Measured inside the page: `performance.timeOrigin + performance.now()` taken
   just before the kit's restore calls (one Playwright round trip, a few ms, is included),
   then a MutationObserver plus a 20 ms poll marks the first moment both hold. The start
   and the deadline live in sessionStorage, so a page reload by the bridge is measured too
   (it counts from the same t0 and is reported in the reloads column);
5. "live" = one more transfer arrives on screen by itself within --live-timeout s (the live
   ticker asks every 2 s); then no error banner (`#error`, "Cannot connect") may remain.

A cycle is OK only when it is fresh, live and clean. For restarts t0 is after the server is
up again: the server's start (SIGKILL -> `/` answers 200) is reported separately, and
start + resume beside it. A failed cycle is recorded with its reason, the page is reopened
and the bench goes on; the app is stopped at the end whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from app.domain.db import Database
from app.domain.leaderboard import by_balance
from app.domain.transfers import transfer
from app.domain.users import find_by_username
from bench.stats import percentile
from miniapp_testing.host import Launch, TelegramHost
from miniapp_testing.plugin import CHROMIUM, CHROMIUM_ARGS, phone_context
from miniapp_testing.server import AppServer
from miniapp_testing.telegram import sign_init_data

ROOT = Path(__file__).resolve().parents[1]

KINDS = ("plain", "restart", "offline")
SENDER_COUNT = 4  # members who take turns sending to the watched member
SEEN_BY_TICKER_MS = 2500  # the live ticker's first look after opening (it asks every 2 s)
BANNER_SETTLE_MS = 1500  # a banner still on screen this long after fresh data "remains"
POLL_S = 0.05

# Installed in the page before any of its scripts, on every load: `__benchWatch(balance,
# note)` stamps t0 and marks the first moment the screen shows both. The pending watch is
# kept in sessionStorage, so after a reload the new document keeps watching from the same t0.
WATCH_JS = """
(() => {
  const KEY = "__bench_watch";
  const now = () => performance.timeOrigin + performance.now();
  const balance = () => {
    const el = document.querySelector("#member-balance");
    const digits = el ? el.innerText.replace(/\\D/g, "") : "";
    return digits ? parseInt(digits, 10) : null;
  };
  const newestNote = () => {
    const row = document.querySelector("#feed-list .feed-row");
    const detail = row && row.querySelector(".feed-detail");
    return detail ? detail.innerText : null;
  };
  let stop = () => {};
  const arm = (watch) => {
    stop();
    window.__benchResult = null;
    const check = () => {
      if (window.__benchResult || balance() !== watch.balance || newestNote() !== watch.note) {
        return;
      }
      const at = now();
      window.__benchResult = { at, ms: at - watch.t0, loads: watch.loads };
      sessionStorage.removeItem(KEY);
      stop();
    };
    const observer = new MutationObserver(check);
    observer.observe(document, { subtree: true, childList: true, characterData: true });
    const timer = setInterval(check, 20);
    stop = () => {
      observer.disconnect();
      clearInterval(timer);
    };
    check();
  };
  window.__benchWatch = (balance, note) => {
    const watch = { balance, note, t0: now(), loads: 0 };
    sessionStorage.setItem(KEY, JSON.stringify(watch));
    arm(watch);
    return watch.t0;
  };
  window.__benchCancel = () => {
    sessionStorage.removeItem(KEY);
    stop();
  };
  const pending = sessionStorage.getItem(KEY);
  if (pending) {
    const watch = JSON.parse(pending);
    watch.loads += 1;
    sessionStorage.setItem(KEY, JSON.stringify(watch));
    arm(watch);
  }
})();
"""

BANNER_JS = """() => {
  const text = document.body ? document.body.innerText : "";
  const found = [];
  const error = document.querySelector("#error");
  if (error) found.push("#error: " + error.innerText);
  for (const phrase of ["Cannot connect", "Connection Error"]) {
    if (text.includes(phrase)) found.push(phrase);
  }
  return found;
}"""


class CycleFailed(Exception):
    pass


@dataclass
class Cycle:
    index: int
    kind: str
    ok: bool = False
    reason: str = ""
    paused_seen: bool = False  # the server heard the minimize before the outage began
    server_start_ms: float | None = None
    fresh_ms: float | None = None
    live_ms: float | None = None
    reloads: int = 0  # page loads between restore and the end of the cycle
    socket_drops: int = 0
    banners: list[str] = field(default_factory=list)
    wall_s: float = 0.0


def cycle_kind(index: int, restart_every: int) -> str:
    """1-based: every `restart_every`-th a restart, two after each of those offline."""
    if restart_every and index % restart_every == 0:
        return "restart"
    if restart_every and index % restart_every == 2 % restart_every:
        return "offline"
    return "plain"


def fmt(value: float | None, spec: str = ".0f") -> str:
    return "-" if value is None else format(value, spec)


class Bench:
    def __init__(self, args: argparse.Namespace, app: AppServer, browser: Any) -> None:
        self.args = args
        self.app = app
        self.browser = browser
        self.db = Database(app.database_url)  # no cache: every read goes to the database
        self.senders = self._richest_senders()
        self.members = {name: self._member(name) for name in (args.member, *self.senders)}
        self.context: Any = None
        self.tg: TelegramHost | None = None
        self.loads = 0

    # -- the member, the page ----------------------------------------------------------

    def _member(self, username: str) -> dict[str, Any]:
        found = find_by_username(self.db, username)
        if found is None:
            raise SystemExit(f"@{username} is not seeded")
        first, _, last = found.name.partition(" ")
        user = {"id": found.id, "first_name": first, "username": found.username}
        return {**user, "last_name": last} if last else user

    def _richest_senders(self) -> tuple[str, ...]:
        """The members with the most points send (two points a cycle): seeded balances are
        random, and a poor sender would run dry before the last cycle."""
        board = by_balance(self.db, limit=SENDER_COUNT + 5)
        names = [e.username for e in board.entries if e.username and e.username != self.args.member]
        return tuple(names[:SENDER_COUNT])

    def balance(self) -> int:
        found = find_by_username(self.db, self.args.member)
        assert found is not None
        return int(found.balance)

    def open_page(self) -> TelegramHost:
        """A new phone context on the Feed (the previous one, if any, is closed)."""
        if self.context is not None:
            with contextlib.suppress(Exception):
                self.context.close()
        self.context = phone_context(self.browser)
        page = self.context.new_page()
        page.add_init_script(WATCH_JS)
        page.on("load", self._loaded)
        launch = Launch(user=self.members[self.args.member], version="8.0", platform="android")
        self.tg = TelegramHost(page, self.app.url, self.app.bot_token, launch)
        self.tg.open("/feed", wait_for="#feed-list .feed-row")
        page.wait_for_timeout(SEEN_BY_TICKER_MS)
        return self.tg

    def _loaded(self, _page: Any) -> None:
        self.loads += 1

    @property
    def page(self) -> Any:
        assert self.tg is not None
        return self.tg.page

    # -- transfers from other members ------------------------------------------------

    def send(self, sender: str, note: str, *, server_up: bool) -> None:
        key = uuid.uuid4().hex
        if server_up:
            init_data = sign_init_data(self.members[sender], self.app.bot_token)
            body = {"to": f"@{self.args.member}", "amount": 1, "note": note, "idempotency_key": key}
            response = httpx.post(
                f"{self.app.url}/api/transfers",
                json=body,
                headers={"Authorization": f"tma {init_data}"},
                timeout=10,
            )
            if response.status_code != 200:
                raise CycleFailed(f"REST transfer answered {response.status_code}: {response.text}")
        else:
            sender_id = self.members[sender]["id"]
            transfer(self.db, sender_id, f"@{self.args.member}", 1, note, key)

    # -- waiting inside the page -------------------------------------------------------

    def watch(self, balance: int, note: str) -> None:
        self.page.evaluate("([b, n]) => window.__benchWatch(b, n)", [balance, note])

    def wait_watch(self, timeout_s: float, failure: str) -> float:
        """Milliseconds (in the page) until the current watch was met; CycleFailed with
        `failure` and what the screen shows after `timeout_s` of wall time."""
        deadline = time.monotonic() + timeout_s
        while True:
            with contextlib.suppress(Exception):  # a reload in progress: ask again
                result = self.page.evaluate("window.__benchResult || null")
                if result:
                    return round(float(result["ms"]), 1)
            if time.monotonic() > deadline:
                with contextlib.suppress(Exception):
                    self.page.evaluate("window.__benchCancel && window.__benchCancel()")
                raise CycleFailed(f"{failure}, screen {self.screen_state()}")
            time.sleep(POLL_S)

    def wait_paused(self) -> bool:
        try:
            self.page.locator(".screen[data-active='false']").wait_for(timeout=5000)
            return True
        except Exception:
            return False

    def screen_state(self) -> str:
        """What is on screen, for a failure's reason."""
        with contextlib.suppress(Exception):
            return str(
                self.page.evaluate(
                    """() => ({
                    balance: document.querySelector('#member-balance')?.innerText,
                    note: document.querySelector('#feed-list .feed-row .feed-detail')?.innerText,
                    active: document.querySelector('.screen')?.dataset.active,
                    url: location.pathname,
                  })"""
                )
            )
        return "(page not answering)"

    # -- one cycle ----------------------------------------------------------------------

    def run_cycle(self, cycle: Cycle) -> None:
        tg, args = self.tg, self.args
        assert tg is not None
        sender = self.senders[cycle.index % len(self.senders)]
        note = f"resume {cycle.index} {cycle.kind} {uuid.uuid4().hex[:6]}"

        since = tg.now_ms()
        tg.minimize()
        cycle.paused_seen = self.wait_paused()
        if cycle.kind == "restart":
            self.app.kill()
            self.send(sender, note, server_up=False)
            started = time.perf_counter()
            self.app.start()
            cycle.server_start_ms = (time.perf_counter() - started) * 1000
        elif cycle.kind == "offline":
            tg.go_offline()
            self.send(sender, note, server_up=True)
            time.sleep(args.minimized_s)
            tg.go_online()
        else:
            self.send(sender, note, server_up=True)
            time.sleep(args.minimized_s)
        expected = self.balance()

        loads = self.loads
        self.watch(expected, note)
        tg.restore()
        try:
            cycle.fresh_ms = self.wait_watch(
                args.fresh_timeout,
                f"not fresh in {args.fresh_timeout:.0f} s: want {expected} and {note!r}",
            )
            fresh_at = time.monotonic()

            live_note = f"live {cycle.index} {uuid.uuid4().hex[:6]}"
            self.watch(expected + 1, live_note)
            self.send(sender, live_note, server_up=True)
            cycle.live_ms = self.wait_watch(
                args.live_timeout,
                f"not live: the next transfer was not on screen in {args.live_timeout:.0f} s",
            )
        finally:
            cycle.reloads = self.loads - loads

        settle_ms = BANNER_SETTLE_MS - (time.monotonic() - fresh_at) * 1000
        if settle_ms > 0:
            self.page.wait_for_timeout(settle_ms)
        cycle.banners = list(self.page.evaluate(BANNER_JS))
        history = tg.socket_history(since)
        cycle.socket_drops = sum(1 for e in history if not e["connected"])
        if cycle.banners:
            raise CycleFailed(f"error banner remains: {cycle.banners}")

    def recover(self) -> None:
        """Back to a known start: the server up, the network on, a fresh page on the Feed."""
        if not self.app.running:
            self.app.start()
        with contextlib.suppress(Exception):
            assert self.tg is not None
            self.tg.go_online()
        self.open_page()

    def run(self, on_cycle: Callable[[Cycle], None]) -> list[Cycle]:
        cycles = []
        self.open_page()
        for index in range(1, self.args.cycles + 1):
            cycle = Cycle(index, cycle_kind(index, self.args.restart_every))
            started = time.perf_counter()
            try:
                self.run_cycle(cycle)
                cycle.ok = True
            except Exception as exc:  # one bad cycle is a figure, not the end of the bench
                cycle.reason = str(exc).splitlines()[0][:300] if str(exc) else repr(exc)
                if not isinstance(exc, CycleFailed):
                    cycle.reason = f"{type(exc).__name__}: {cycle.reason}"
                    traceback.print_exc(file=sys.stderr)
                try:
                    self.recover()
                except Exception as again:
                    cycle.reason += f"; recovery failed: {again}"
                    traceback.print_exc(file=sys.stderr)
            cycle.wall_s = round(time.perf_counter() - started, 2)
            cycles.append(cycle)
            on_cycle(cycle)
        return cycles


# -- report -------------------------------------------------------------------------------


def summarize(cycles: list[Cycle], bar_ms: float) -> dict[str, Any]:
    def stats(group: list[Cycle]) -> dict[str, Any]:
        fresh = [c.fresh_ms for c in group if c.ok and c.fresh_ms is not None]
        live = [c.live_ms for c in group if c.ok and c.live_ms is not None]
        starts = [c.server_start_ms for c in group if c.server_start_ms is not None]
        outage = [
            c.server_start_ms + c.fresh_ms
            for c in group
            if c.ok and c.server_start_ms is not None and c.fresh_ms is not None
        ]
        return {
            "cycles": len(group),
            "ok": sum(c.ok for c in group),
            "fresh_p50_ms": percentile(fresh, 50),
            "fresh_p95_ms": percentile(fresh, 95),
            "fresh_max_ms": max(fresh) if fresh else None,
            "live_p50_ms": percentile(live, 50),
            "live_max_ms": max(live) if live else None,
            "server_start_p50_ms": percentile(starts, 50),
            "start_plus_fresh_p50_ms": percentile(outage, 50),
            "start_plus_fresh_p95_ms": percentile(outage, 95),
            "reloads": sum(c.reloads for c in group),
        }

    groups = {kind: [c for c in cycles if c.kind == kind] for kind in KINDS}
    groups["no restart"] = groups["plain"] + groups["offline"]
    groups["all"] = list(cycles)
    summary = {name: stats(group) for name, group in groups.items() if group}
    every_ok = bool(cycles) and all(c.ok for c in cycles)
    no_restart = summary.get("no restart", {})
    p95 = no_restart.get("fresh_p95_ms")
    # Without restarts: plain and offline cycles; a failed one makes the p95 meaningless.
    fast = p95 is not None and p95 < bar_ms and no_restart.get("ok") == no_restart.get("cycles")
    summary["verdict"] = {
        "all_ok": every_ok,
        "no_restart_p95_ms": p95,
        "bar_ms": bar_ms,
        "p95_under_bar": fast,
        "passed": every_ok and fast,
    }
    return summary


def print_report(cycles: list[Cycle], summary: dict[str, Any]) -> None:
    header = (
        f"{'kind':<11} {'cycles':>6} {'OK':>4}  {'fresh p50':>9} {'p95':>6} {'max':>6}"
        f"  {'live p50':>8} {'max':>6}  {'start p50':>9} {'start+fresh p50':>15} {'p95':>6}"
        f"  {'reloads':>7}"
    )
    print()
    print("Resume to fresh data (ms, restore -> new balance and note on screen, in the page)")
    print(header)
    print("-" * len(header))
    for name in (*KINDS, "no restart", "all"):
        row = summary.get(name)
        if row is None:
            continue
        print(
            f"{name:<11} {row['cycles']:>6} {row['ok']:>4}  {fmt(row['fresh_p50_ms']):>9}"
            f" {fmt(row['fresh_p95_ms']):>6} {fmt(row['fresh_max_ms']):>6}"
            f"  {fmt(row['live_p50_ms']):>8} {fmt(row['live_max_ms']):>6}"
            f"  {fmt(row['server_start_p50_ms']):>9} {fmt(row['start_plus_fresh_p50_ms']):>15}"
            f" {fmt(row['start_plus_fresh_p95_ms']):>6}  {row['reloads']:>7}"
        )
    failed = [c for c in cycles if not c.ok]
    if failed:
        print("\nFailed cycles")
        for c in failed:
            print(f"  #{c.index:<3} {c.kind:<8} {c.reason}")
    verdict = summary["verdict"]
    ok = sum(c.ok for c in cycles)
    p95 = fmt(verdict["no_restart_p95_ms"])
    print(
        f"\nBar: {len(cycles)} of {len(cycles)} live and fresh -> {ok} of {len(cycles)}"
        f" ({'met' if verdict['all_ok'] else 'NOT met'});"
        f" p95 without restarts < {verdict['bar_ms']:.0f} ms -> {p95} ms"
        f" ({'met' if verdict['p95_under_bar'] else 'NOT met'})."
    )
    print(f"Verdict: {'PASS' if verdict['passed'] else 'FAIL'}")


def print_cycle(cycle: Cycle) -> None:
    state = "ok  " if cycle.ok else "FAIL"
    extra = f" start {fmt(cycle.server_start_ms)} ms" if cycle.server_start_ms else ""
    print(
        f"  #{cycle.index:<3} {cycle.kind:<8} {state} fresh {fmt(cycle.fresh_ms):>5} ms"
        f"  live {fmt(cycle.live_ms):>5} ms  reloads {cycle.reloads}"
        f"  drops {cycle.socket_drops}{extra}  ({cycle.wall_s:.1f} s)"
        + ("" if cycle.paused_seen else "  (minimize not seen by the server)")
        + (f"  {cycle.reason}" if cycle.reason else ""),
        flush=True,
    )


# -- main ---------------------------------------------------------------------------------


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--restart-every", type=int, default=5, help="0: no restarts, no cuts")
    parser.add_argument("--member", default="bob", help="the member on the Feed")
    parser.add_argument("--minimized-s", type=float, default=2.0, help="plain and offline")
    parser.add_argument("--fresh-timeout", type=float, default=20.0, help="seconds")
    parser.add_argument("--live-timeout", type=float, default=6.0, help="seconds")
    parser.add_argument("--bar-ms", type=float, default=1000.0)
    parser.add_argument("--workdir", type=Path, help="default: a new temporary folder")
    parser.add_argument("--json", type=Path, help="also write every cycle and the summary here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with contextlib.ExitStack() as stack:
        workdir = args.workdir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        app = AppServer(workdir / "app")
        print(f"app: seeding and starting in {app.workdir} (the first build takes a minute)")
        app.seed()
        started = time.perf_counter()
        stack.callback(app.stop)
        app.start()
        print(f"app: serving {app.url} after {time.perf_counter() - started:.1f} s", flush=True)
        browser = stack.enter_context(chromium())
        bench = Bench(args, app, browser)
        print(f"{args.cycles} cycles, @{args.member} on the Feed:", flush=True)
        began = datetime.now(UTC)
        cycles = bench.run(print_cycle)
        summary = summarize(cycles, args.bar_ms)
        print_report(cycles, summary)
        if args.json:
            args.json.write_text(
                json.dumps(
                    {
                        "started": began.isoformat(),
                        "args": {k: str(v) for k, v in vars(args).items()},
                        "summary": summary,
                        "cycles": [asdict(c) for c in cycles],
                    },
                    indent=2,
                )
            )
            print(f"\nwrote {args.json}")
        return 0 if summary["verdict"]["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
