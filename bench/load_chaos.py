"""bench.load --restart-postgres-at S / --restart-redis-at S: the app's dependencies restarted
under load, and what a REST client saw meanwhile.

While the members run, a REST client sends a 1-point transfer every 1.2 s from a seeded
member (each with its own idempotency key, retried with the same key after a 5xx, a 429
or a dropped connection, waiting `Retry-After`, as a phone would) and asks `/health`
every 0.1 s. At each time given, PostgreSQL (`pg_ctlcluster ... restart`) or Redis
(`SHUTDOWN NOSAVE`, then `scripts/services.sh start`) is restarted. Reported per
restart: how long the dependency was away (the command's own time), how long until the
app answered again (the first transfer answered 200 and the first healthy /health after
the dependency was back), and over the whole run: requests by status, 5xx other than 503
(a dependency that is away answers 503), keys answered twice, and the books.
"""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from miniapp_testing.telegram import sign_init_data

# Within one member's write budget (RATE_WRITES, 60 a minute by default).
TRANSFER_EVERY_S = 1.2
HEALTH_EVERY_S = 0.1
ROOT = Path(__file__).resolve().parents[1]


def _postgres_restart() -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )


def _redis_restart(port: int = 6379) -> None:
    subprocess.run(
        ["redis-cli", "-p", str(port), "shutdown", "nosave"], capture_output=True, timeout=30
    )
    # Started again as CI starts it (the same command), which waits until it answers.
    subprocess.run(
        ["bash", str(ROOT / "scripts" / "services.sh"), "start"],
        check=True,
        capture_output=True,
        timeout=60,
    )


RESTARTS = {"postgres": _postgres_restart, "redis": _redis_restart}


@dataclass
class Restart:
    what: str
    at: float  # time.monotonic() to start it
    started: float | None = None
    back: float | None = None  # the dependency answers again
    error: str = ""


@dataclass
class Chaos:
    url: str
    bot_token: str
    sender: dict[str, Any]
    recipient: str
    restarts: list[Restart]
    statuses: Counter[str] = field(default_factory=Counter)
    health: list[tuple[float, bool]] = field(default_factory=list)
    transfers: list[tuple[float, str, int]] = field(default_factory=list)  # (answered, key, tx)
    stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        for target in (self._restart_all, self._transfer_loop, self._health_loop):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)

    def finish(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=120)

    def _restart_all(self) -> None:
        for restart in self.restarts:
            while time.monotonic() < restart.at and not self.stop.is_set():
                time.sleep(0.05)
            if self.stop.is_set():
                return
            restart.started = time.monotonic()
            try:
                RESTARTS[restart.what]()
            except Exception as exc:  # reported, the run goes on
                restart.error = f"{type(exc).__name__}: {exc}"
            restart.back = time.monotonic()

    def _transfer_loop(self) -> None:
        with httpx.Client(base_url=self.url, timeout=15) as client:
            while not self.stop.is_set():
                started = time.monotonic()
                self._transfer(client, f"chaos-{uuid.uuid4().hex}")
                time.sleep(max(0.0, TRANSFER_EVERY_S - (time.monotonic() - started)))

    def _transfer(self, client: httpx.Client, key: str) -> None:
        body = {"to": f"@{self.recipient}", "amount": 1, "note": "chaos", "idempotency_key": key}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not self.stop.is_set():
            auth = {"Authorization": f"tma {sign_init_data(self.sender, self.bot_token)}"}
            try:
                answer = client.post("/api/transfers", json=body, headers=auth)
            except httpx.TransportError as exc:
                self.statuses[type(exc).__name__] += 1
                time.sleep(0.2)
                continue
            self.statuses[str(answer.status_code)] += 1
            if answer.status_code == 200:
                self.transfers.append((time.monotonic(), key, answer.json()["transaction_id"]))
                return
            if answer.status_code in (429, 502, 503, 504) or answer.status_code >= 500:
                time.sleep(float(answer.headers.get("retry-after", "0.5")))
                continue
            return  # a 4xx the client cannot fix by waiting: counted, given up

    def _health_loop(self) -> None:
        with httpx.Client(base_url=self.url, timeout=5) as client:
            while not self.stop.is_set():
                try:
                    ok = client.get("/health").status_code == 200
                except httpx.TransportError:
                    ok = False
                self.health.append((time.monotonic(), ok))
                time.sleep(HEALTH_EVERY_S)

    def figures(self, window_start: float) -> dict[str, Any]:
        out: list[dict[str, Any]] = []
        for r in self.restarts:
            if r.started is None or r.back is None:
                out.append({"what": r.what, "done": False, "error": r.error})
                continue
            after = [t for t, _key, _tx in self.transfers if t >= r.back]
            healthy = [t for t, ok in self.health if ok and t >= r.back]
            down = [t for t, ok in self.health if not ok and r.started <= t]
            out.append(
                {
                    "what": r.what,
                    "done": True,
                    "at_s": round(r.started - window_start, 1),
                    "away_s": round(r.back - r.started, 2),
                    "transfer_back_s": round(after[0] - r.back, 2) if after else None,
                    "health_back_s": round(healthy[0] - r.back, 2) if healthy else None,
                    "unhealthy_probes": len(down),
                    "error": r.error,
                }
            )
        charged = Counter(key for _t, key, _tx in self.transfers)
        # 503 is the answer for a dependency that is away; any other 5xx is a failure.
        server_errors = sum(
            n
            for status, n in self.statuses.items()
            if status.isdigit() and int(status) >= 500 and status != "503"
        )
        return {
            "restarts": out,
            "requests": dict(self.statuses),
            "server_errors": server_errors,
            "answered_503": self.statuses.get("503", 0),
            "transfers_ok": len(self.transfers),
            "keys_answered_twice": sum(1 for n in charged.values() if n > 1),
        }


def chaos_lines(f: dict[str, Any]) -> str:
    c = f["chaos"]
    lines = ["    chaos: " + ", ".join(f"{k} {v}" for k, v in c["requests"].items())]
    for r in c["restarts"]:
        if not r["done"]:
            lines.append(f"      {r['what']}: not done {r['error']}")
            continue
        lines.append(
            f"      {r['what']} restarted at {r['at_s']} s: away {r['away_s']} s, "
            f"transfers back {r['transfer_back_s']} s and /health back {r['health_back_s']} s "
            f"after it, {r['unhealthy_probes']} unhealthy probes {r['error']}"
        )
    lines.append(
        f"      REST: {c['transfers_ok']} transfers ok, {c['server_errors']} server errors "
        f"other than 503 ({c['answered_503']} answered 503), keys answered twice "
        f"{c['keys_answered_twice']}"
    )
    return "\n".join(lines)
