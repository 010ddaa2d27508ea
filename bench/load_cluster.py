"""bench/load.py with --instances N --kill-at S: the kill, and what it did to the members.

`Kill` SIGKILLs instance 0 of the cluster (miniapp_testing.cluster.Cluster.kill) S seconds
into the steady window, and starts it again --restart-after seconds later when asked.
`kill_figures` reads the members' raw observations (bench/load_client.py: each socket that
dropped after it had hydrated, when it was bound again, on which instance, with a new token
or not; every call's outcome; every error with its time) and says what the members went
through after the kill. `check_books` runs the app's own ledger check on the database at the
end (app.domain.ledger: balances + spending == rewards, nothing negative) and counts the
idempotency keys and transfer notes charged more than once.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from bench.stats import percentile

WRITE_KINDS = ("send", "buy", "claim")
DONE = ("ok", "resent ok", "late ok")


class Kill:
    """SIGKILL instance `index` at `at` (time.monotonic()); start it again `restart_after`
    seconds later (in a thread: the start takes seconds, the run goes on meanwhile)."""

    def __init__(self, target: Any, at: float, restart_after: float | None, index: int = 0):
        if target.cluster is None:
            raise ValueError("--kill-at needs --instances N (a cluster behind nginx)")
        self.cluster = target.cluster
        self.index = index
        self.at = at
        self.restart_after = restart_after
        self.upstream: str = self.cluster.upstream(index)
        self.killed_at: float | None = None
        self.killed_wall: float | None = None  # time.time(), for the database's created_at
        self.kill_took_s: float | None = None
        self.restart_at: float | None = None
        self.serving_at: float | None = None
        self.restart_error = ""
        self._thread: threading.Thread | None = None

    def run_until(self, window_end: float) -> None:
        delay = self.at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if time.monotonic() >= window_end:
            return
        self.killed_at, self.killed_wall = time.monotonic(), time.time()
        self.cluster.kill(self.index)  # the process group, SIGKILL; waits for the port
        self.kill_took_s = time.monotonic() - self.killed_at
        if self.restart_after is not None:
            self._thread = threading.Thread(target=self._restart, daemon=True)
            self._thread.start()

    def _restart(self) -> None:
        assert self.killed_at is not None and self.restart_after is not None
        delay = self.killed_at + self.restart_after - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.restart_at = time.monotonic()
        try:
            self.cluster.start_instance(self.index)
        except Exception as exc:  # reported with the figures, the run goes on
            self.restart_error = f"{type(exc).__name__}: {exc}"[:300]
            return
        self.serving_at = time.monotonic()

    def finish(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=240)


def _stats(values: list[float], keys: tuple[str, ...] = ("p50", "p95", "max")) -> dict[str, Any]:
    out: dict[str, Any] = {"n": len(values)}
    for k in keys:
        if k == "max":
            out[k] = round(max(values), 1) if values else None
        else:
            v = percentile(values, float(k[1:]))
            out[k] = None if v is None else round(v, 1)
    return out


def check_books(database_url: str, run_tag: str, resent_keys: list[str]) -> dict[str, Any]:
    """The app's own ledger check and the double charges, on the run's database."""
    if not database_url.startswith("postgresql"):
        return {}
    from sqlalchemy import text

    from app.domain.db import Database
    from app.domain.ledger import books, books_balanced

    db = Database(database_url)
    try:
        report = books(db)
        with db.read() as s:
            # A key is the member's own (the daily reward's is `daily-reward:<date>` for
            # everyone): counted per (member, key). The unique constraint on the pair makes
            # this 0 by construction; counted anyway.
            keys_twice = s.execute(
                text(
                    "SELECT count(*) FROM (SELECT 1 FROM transactions WHERE idempotency_key IS "
                    "NOT NULL GROUP BY actor_id, idempotency_key HAVING count(*) > 1) d"
                )
            ).scalar_one()
            # Every transfer of the run has a note of its own: two rows with one note would be
            # one intended transfer charged twice under two keys.
            notes = dict(
                s.execute(
                    text(
                        "SELECT note, count(*) FROM transactions WHERE kind = 'transfer' "
                        "AND note LIKE :prefix GROUP BY note"
                    ),
                    {"prefix": f"ltn{run_tag}x%"},
                ).all()
            )
            resent = {
                row[0]: (int(row[1]), row[2].timestamp())
                for row in s.execute(
                    text(
                        "SELECT idempotency_key, count(*), min(created_at) FROM transactions "
                        "WHERE idempotency_key = ANY(:keys) GROUP BY idempotency_key"
                    ),
                    {"keys": [k for k in resent_keys if k]},
                ).all()
            }
    finally:
        db.dispose()
    return {
        "report": report,
        "balanced": books_balanced(report),
        "keys_charged_twice": int(keys_twice),
        "notes_charged_twice": sum(1 for n in notes.values() if n > 1),
        "notes": {k: int(v) for k, v in notes.items()},
        "resent_keys": resent,
    }


def kill_figures(
    kill: Kill,
    members: list[dict[str, Any]],
    recs: list[dict[str, Any]],
    window_end: float,
    w2s_after: dict[str, list[float]],
    books: dict[str, Any],
    transfers: list[tuple[str, float, bool, int, int]],
) -> dict[str, Any]:
    """What the members went through from the kill to the end of the steady window."""
    k0 = kill.killed_at
    if k0 is None:
        return {"killed": False}
    drops = [(m, d) for m in members for d in m["drops"]]
    # The sockets on the killed instance: nginx's X-Upstream of their handshake says which
    # (without it: any socket that dropped within 3 s of the kill).
    on_killed = [
        (m, d)
        for m, d in drops
        if d["closed_at"] >= k0 - 0.5
        and (d["upstream"] == kill.upstream if d["upstream"] else d["closed_at"] <= k0 + 3)
    ]
    first_pairs = [(m, d) for m, d in on_killed if d["closed_at"] <= k0 + 5]
    first = [d for _, d in first_pairs]
    moved = {id(d) for _, d in on_killed}
    others = [d for _, d in drops if id(d) not in moved]
    reconnect_ms = [(d["bound_at"] - d["closed_at"]) * 1000 for d in first if d["bound_at"]]
    # closed -> the new socket's CONNECT ack (nginx, the upgrade, the namespace), and the
    # ack -> bound with the screen's data (the hydrate's events on the survivor)
    connect_ms = [(d["acked_at"] - d["closed_at"]) * 1000 for d in first if d["bound_at"]]
    hydrate_ms = [(d["bound_at"] - d["acked_at"]) * 1000 for d in first if d["bound_at"]]
    sockets_before = Counter(
        m["upstreams"][0] for m in members if m["upstreams"] and m["hydrated_at"] <= k0
    )
    outcomes = [o for r in recs for o in r["outcomes"] if k0 <= o[1] <= window_end]
    writes = Counter(status for kind, _, status in outcomes if kind in WRITE_KINDS)
    events = Counter(status for kind, _, status in outcomes if kind not in WRITE_KINDS)
    errors = Counter(kind for r in recs for t, kind in r["error_log"] if t >= k0)
    errors_before = Counter(kind for r in recs for t, kind in r["error_log"] if t < k0)
    event_ms = [ms for r in recs for _, sent, ms in r["events"] if k0 <= sent <= window_end]
    resent = Counter()
    for r in recs:
        resent.update(r["resent"])
    # Resent writes the database had committed before the kill: their answer was lost with
    # the socket; the re-send with the same key was answered with the first result.
    committed_before = sum(
        1
        for _, created in books.get("resent_keys", {}).values()
        if kill.killed_wall is not None and created <= kill.killed_wall + 0.5
    )
    notes = books.get("notes", {})
    failed_but_charged = sum(
        1 for note, sent, ok, _, _ in transfers if not ok and sent >= k0 and notes.get(note)
    )
    ok_but_missing = sum(
        1 for note, sent, ok, _, _ in transfers if ok and sent >= k0 and not notes.get(note)
    )
    w2s = [ms for v in w2s_after.values() for ms in v]
    return {
        "killed": True,
        "instance": kill.index,
        "upstream": kill.upstream,
        "kill_took_s": round(kill.kill_took_s or 0, 2),
        "sockets_by_instance_before": dict(sockets_before),
        "members_on_killed": len({m["idx"] for m, _ in first_pairs}),
        "sockets_dropped": len(first),
        "roles_on_killed": dict(Counter(m["role"] for m, _ in first_pairs)),
        "reconnect_ms": _stats(reconnect_ms),
        "reconnect_connect_ms": _stats(connect_ms),
        "reconnect_hydrate_ms": _stats(hydrate_ms),
        "never_back": sum(1 for d in first if d["bound_at"] is None),
        "new_tokens": sum(1 for d in first if d["new_token"]),
        "reconnect_attempts": dict(sorted(Counter(d["attempts"] for d in first).items())),
        "reconnected_to": dict(Counter(d["upstream_after"] for d in first if d["bound_at"])),
        "later_drops_on_killed": len(on_killed) - len(first),
        "other_drops": len(others),
        "events_after": dict(events),
        "writes_after": dict(writes),
        # A write answered after the 15-s timeout ("late ok") went through: ok here, and its
        # timeout is among the errors.
        "writes_after_ok": sum(v for k, v in writes.items() if k in DONE),
        "writes_after_failed": sum(v for k, v in writes.items() if k not in DONE),
        "resent": dict(resent),
        "resent_committed_before_kill": committed_before,
        "transfers_failed_but_charged": failed_but_charged,
        "transfers_ok_but_not_in_db": ok_but_missing,
        "event_ms_after": _stats(event_ms, ("p50", "p95", "p99", "max")),
        "write_to_screen_after_ms": _stats(w2s),
        "write_to_screen_after_by_kind": {k: _stats(v) for k, v in w2s_after.items()},
        "errors_after": dict(errors),
        "errors_before": dict(errors_before),
        "minimized_pushes_after": sum(
            1 for r in recs for t in r["minimized_pushes"] if t >= k0 and t <= window_end
        ),
        "restart_after_s": kill.restart_after,
        "restart_took_s": (
            None
            if kill.serving_at is None or kill.restart_at is None
            else round(kill.serving_at - kill.restart_at, 1)
        ),
        "restart_error": kill.restart_error,
    }


KILL_COLUMNS = (
    ("N", 5),
    ("on killed", 9),
    ("reconn p50/p95/max", 18),
    ("never", 5),
    ("new tok", 7),
    ("events ok/fail", 14),
    ("writes ok/fail", 14),
    ("resent", 6),
    ("w2s p50/p95/max", 17),
    ("err", 4),
    ("books", 5),
    ("dbl", 3),
)


def _fmt(v: Any) -> str:
    return "-" if v is None else f"{v:.0f}"


def _trio(s: dict[str, Any]) -> str:
    return f"{_fmt(s['p50'])}/{_fmt(s['p95'])}/{_fmt(s['max'])}"


def kill_header() -> str:
    line = " ".join(name.rjust(w) for name, w in KILL_COLUMNS)
    return f"{line}\n{'-' * len(line)}"


def kill_row(f: dict[str, Any]) -> str:
    k = f["kill"]
    r, w = k["reconnect_ms"], k["write_to_screen_after_ms"]
    events_ok = k["events_after"].get("ok", 0)
    events_failed = sum(v for s, v in k["events_after"].items() if s != "ok")
    books = f.get("books") or {}
    cells = (
        str(f["members"]),
        str(k["members_on_killed"]),
        f"{_fmt(r['p50'])}/{_fmt(r['p95'])}/{_fmt(r['max'])}",
        str(k["never_back"]),
        str(k["new_tokens"]),
        f"{events_ok}/{events_failed}",
        f"{k['writes_after_ok']}/{k['writes_after_failed']}",
        str(sum(k["resent"].values())),
        f"{_fmt(w['p50'])}/{_fmt(w['p95'])}/{_fmt(w['max'])}",
        str(sum(k["errors_after"].values())),
        "-" if not books else ("yes" if books["balanced"] else "NO"),
        "-" if not books else str(double_charges(books)),
    )
    return " ".join(c.rjust(w) for c, (_, w) in zip(cells, KILL_COLUMNS, strict=True))


def double_charges(books: dict[str, Any]) -> int:
    return books["keys_charged_twice"] + books["notes_charged_twice"]


def kill_details(f: dict[str, Any]) -> str:
    k = f["kill"]
    lines = [
        f"  kill: instance {k['instance']} ({k['upstream']}) SIGKILLed; sockets per instance "
        f"before {k['sockets_by_instance_before']}; {k['sockets_dropped']} sockets dropped "
        f"({k['roles_on_killed']}), back on {k['reconnected_to']} after attempts "
        f"{k['reconnect_attempts']} (closed -> connected {_trio(k['reconnect_connect_ms'])}, "
        f"connected -> bound {_trio(k['reconnect_hydrate_ms'])} ms); "
        f"{k['new_tokens']} got a new token; never back "
        f"{k['never_back']}; drops elsewhere {k['other_drops']}, later drops of the moved "
        f"{k['later_drops_on_killed']}",
        f"    after the kill: events {k['events_after']} (p50/p95/p99/max "
        f"{_fmt(k['event_ms_after']['p50'])}/{_fmt(k['event_ms_after']['p95'])}/"
        f"{_fmt(k['event_ms_after']['p99'])}/{_fmt(k['event_ms_after']['max'])} ms); writes "
        f"{k['writes_after']}; re-sent after reconnect {k['resent']} "
        f"({k['resent_committed_before_kill']} had committed before the kill); transfers the "
        f"member saw fail but charged {k['transfers_failed_but_charged']}, seen ok but not in "
        f"the database {k['transfers_ok_but_not_in_db']}",
        f"    write->screen after the kill {k['write_to_screen_after_by_kind']}; errors after "
        f"{k['errors_after']} (before {k['errors_before']}); deltas to minimized tabs after "
        f"{k['minimized_pushes_after']}",
    ]
    if k["restart_after_s"] is not None:
        lines.append(
            f"    restart {k['restart_after_s']} s after the kill: serving after "
            f"{k['restart_took_s']} s {k['restart_error']}"
        )
    return "\n".join(lines)


def books_lines(f: dict[str, Any]) -> str:
    books = f.get("books") or {}
    if not books:
        return "  books: not checked (no PostgreSQL URL)"
    return (
        f"  books balance: {'yes' if books['balanced'] else 'no'} {books['report']}\n"
        f"  double charges: {double_charges(books)} (idempotency keys charged twice "
        f"{books['keys_charged_twice']}, transfer notes charged twice "
        f"{books['notes_charged_twice']})"
    )
