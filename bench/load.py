"""Load: N members on their phones at once, speaking the page's own socket protocol.

    .venv/bin/python -m bench.load --members 200 --duration 30         # starts the app itself
    .venv/bin/python -m bench.load --members 100,250,500 --json load.json
    .venv/bin/python -m bench.load --members 250 --find-knee             # doubles N until it breaks
    .venv/bin/python -m bench.load --url http://localhost:3000 --members 100
    .venv/bin/python -m bench.load --members 300 --against HEAD~1        # this checkout vs REF
    .venv/bin/python -m bench.load --instances 2 --members 1000 --kill-at 20  # nginx, one killed

Each simulated member has its own Telegram id (a new member: its first open registers it,
welcome bonus included), its own Reflex client token and one WebSocket to `/_event`, and
sends what the real page sends (bench/load_client.py has the frames): the hydrate with the
signed initData as the `tg_launch` sessionStorage var inside the socket.io CONNECT packet,
the bridge's `ready` and `viewport_changed`, the route's `update_vars_internal` +
`on_load_internal` for a tap on a tab, the lifecycle's `deactivated` / `activated(nonce)`,
the send form's `send(key, to, amount, note)` (`set_to` / `set_amount` / `set_note` first
on builds whose form inputs are state), `buy(item_id, key)`,
`claim()`, and, in the tick protocol, `LiveState.tick` every 2 s while active. The names,
the initial-state hashes, the state schema and the sessionStorage keys are read from the
JavaScript bundle the app serves, so the frames follow the build that is measured.

Roles (--active-share, --mix, --screens, --writes-per-s): active on Home, Feed, Leaderboard
or Market (stays, takes what arrives); minimized (sends `deactivated`, then silence);
navigating (another tab every few seconds); resuming (deactivated / activated cycles);
writers (transfers with a unique note, buys, daily claims; Poisson arrivals adding up to
--writes-per-s). Members connect over --ramp-s (hydrate is measured there); everything else
is measured in the steady window of --duration seconds after it (+ --settle-s), and members
stay --grace-s longer so late rows can still arrive.

Figures (time.monotonic(), one clock for all processes): connect + hydrate (socket opened ->
the delta in which the member is bound, status "ok", and the screen's data is in, i.e. the
load's `is_hydrated` true); event round trips (sent -> the frame that ends it: navigation
`is_hydrated` true, send/buy/claim their `sending`/`buying`/`claiming` false, activated its
nonce, deactivated `active` false, a tick the first delta after it; a tick that changes
nothing gets no answer and is counted, not timed); write-to-screen (the writer's send ->
the note in HomeState.latest / FeedState.rows at each active member on Home / Feed, and
the recipient's SessionState.balance at an active recipient), with members who should have
seen it and never did (missed: Feed and balance; Home lists only 5 rows, so a row pushed
out by newer ones before the next update is reported apart); errors (error toasts, state
mismatches, refused connects, events unanswered after 15 s, errors in the app log),
disconnects, failed hydrates; server CPU and RSS per process (/proc over the app's process
group), generator CPU, Redis commands/s (INFO), Redis bytes per tab (MEMORY USAGE of sampled
tabs' state keys), PostgreSQL commits/s (pg_stat_database).

--instances N serves the app as `make cluster` does (N instances behind nginx, one build) and
loads it through nginx; --kill-at S SIGKILLs instance 0 S seconds into the window (and
--restart-after starts it again): the members on it reconnect as the page does, and the
report says how long that took, what happened to the events and writes after the kill, and
whether the books still balance with nothing charged twice (bench/load_cluster.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.load_chaos import Chaos, Restart, chaos_lines
from bench.load_client import Plan, Wire, run_worker
from bench.load_cluster import (
    Kill,
    books_lines,
    check_books,
    kill_details,
    kill_figures,
    kill_header,
    kill_row,
)
from bench.stats import percentile
from bench.worktree import checkout_of

ROOT = Path(__file__).resolve().parents[1]
# Every simulated member connects from this machine's one address: the per-address bound
# on sockets is lifted for the app under test (an older checkout ignores the name).
UNBOUNDED = {"CONNECTIONS_PER_ADDRESS": "0"}

DEFAULT_REDIS = "redis://127.0.0.1:6379/13"
AGAINST_REDIS = "redis://127.0.0.1:6379/10"
KNEE_P95_MS = 150.0
HEADLINE_KINDS = ("nav", "send", "buy", "claim", "tick", "keep_live", "activated")
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# -- the app under load ------------------------------------------------------------------


@dataclass
class Target:
    label: str
    url: str
    database_url: str
    redis_url: str
    bot_token: str
    protocol: str
    app: Any = None  # AppServer when this script started it
    pgid: int | None = None
    created_db: str = ""
    cluster: Any = None  # miniapp_testing.cluster.Cluster with --instances

    @property
    def port(self) -> int:
        return urlsplit(self.url).port or 80

    def app_pgids(self) -> dict[int, int]:
        """Process group -> instance index of every app process running now (a restarted
        instance is a new group)."""
        if self.cluster is not None:
            return {
                s._proc.pid: i  # start_new_session: the process leads its group
                for i, s in enumerate(self.cluster.servers)
                if s._proc is not None
            }
        return {} if self.pgid is None else {self.pgid: 0}

    def nginx_pgid(self) -> int | None:
        proc = self.cluster.nginx._proc if self.cluster is not None else None
        return None if proc is None else proc.pid

    def logs(self) -> list[Path]:
        if self.cluster is not None:
            return [s.log for s in self.cluster.servers]
        log = getattr(self.app, "log", None)
        return [] if log is None else [log]

    def log_marks(self) -> list[int]:
        return [log.stat().st_size if log.exists() else 0 for log in self.logs()]

    def log_since(self, marks: list[int]) -> list[str]:
        """What each app log got since `marks`, one text per instance."""
        out = []
        for log, mark in zip(self.logs(), marks, strict=True):
            if not log.exists():
                out.append("")
                continue
            with log.open("rb") as fh:
                fh.seek(mark)
                out.append(fh.read().decode(errors="replace"))
        return out


def has_tick(checkout: Path) -> bool:
    live = checkout / "state" / "live.py"
    return (
        live.exists()
        and re.search(r"^\s*(async\s+)?def tick\b", live.read_text(), re.M) is not None
    )


def start_target(
    args: argparse.Namespace, label: str, checkout: Path, workdir: Path, redis_default: str
) -> Target:
    """A fresh app as `make run` serves it, on PostgreSQL and Redis."""
    import redis

    from miniapp_testing.postgres import create_database
    from miniapp_testing.project import Project
    from miniapp_testing.server import TEST_BOT_TOKEN, AppServer

    created = ""
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgresql"):
        created = f"bench_load_{'ref' if redis_default == AGAINST_REDIS else 'here'}"
        database_url = create_database(created)
    redis_url = os.environ.get("REDIS_URL") or redis_default
    if redis_url == redis_default:
        redis.Redis.from_url(redis_url).flushdb()  # only the bench's own database
    env = {"DATABASE_URL": database_url}
    subprocess.run(
        [sys.executable, "-m", "app.domain.migrate"],
        cwd=checkout,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "-m", "app.domain.seed", "--if-empty", "--quiet"],
        cwd=checkout,
        env={**os.environ, **env},
        check=True,
    )
    protocol = args.protocol
    if protocol == "auto":
        protocol = "tick" if has_tick(checkout) else "push"
    if args.instances > 1:
        return start_cluster(
            args, label, checkout, workdir, database_url, redis_url, created, protocol
        )
    app = AppServer(
        workdir,
        database_url=database_url,
        redis_url=redis_url,
        extra_env={"GRANIAN_WORKERS": str(args.workers), **UNBOUNDED},
        project=Project(root=checkout),
    )
    print(
        f"[{label}] starting the app (production build, {args.workers} workers) ...",
        file=sys.stderr,
    )
    started = time.monotonic()
    app.start()
    print(
        f"[{label}] serving at {app.url} after {time.monotonic() - started:.0f} s", file=sys.stderr
    )
    assert app._proc is not None
    return Target(
        label,
        app.url,
        database_url,
        redis_url,
        TEST_BOT_TOKEN,
        protocol,
        app=app,
        pgid=os.getpgid(app._proc.pid),
        created_db=created,
    )


def start_cluster(
    args: argparse.Namespace,
    label: str,
    checkout: Path,
    workdir: Path,
    database_url: str,
    redis_url: str,
    created: str,
    protocol: str,
) -> Target:
    """`make cluster`'s setup: one build, --instances app processes on the same database
    and Redis, nginx in front (miniapp_testing.cluster); the members go through nginx."""
    from miniapp_testing.cluster import Cluster
    from miniapp_testing.project import Project
    from miniapp_testing.server import TEST_BOT_TOKEN

    cluster = Cluster(
        workdir,
        instances=args.instances,
        database_url=database_url,
        redis_url=redis_url,
        workers=args.workers,
        project=Project(root=checkout),
        nginx_workers=args.nginx_workers,
        extra_env=dict(UNBOUNDED),
    )
    print(
        f"[{label}] building once, then {args.instances} instances ({cluster.workers} workers "
        f"each) behind nginx ({args.nginx_workers} worker(s)) ...",
        file=sys.stderr,
    )
    started = time.monotonic()
    cluster.start()
    print(
        f"[{label}] serving at {cluster.url} (instances on "
        f"{', '.join(str(s.port) for s in cluster.servers)}) after "
        f"{time.monotonic() - started:.0f} s",
        file=sys.stderr,
    )
    return Target(
        label,
        cluster.url,
        database_url,
        redis_url,
        TEST_BOT_TOKEN,
        protocol,
        created_db=created,
        cluster=cluster,
    )


def stop_target(target: Target, keep_db: bool) -> None:
    if target.app is not None:
        target.app.stop()
    if target.cluster is not None:
        target.cluster.stop()
    if target.created_db and not keep_db:
        from miniapp_testing.postgres import drop_database

        with contextlib.suppress(Exception):
            drop_database(target.created_db)


def url_target(args: argparse.Namespace) -> Target:
    """An app that is already running (started like AppServer or `make run`)."""
    token = args.bot_token
    if not token:
        token_file = Path(os.environ.get("DEV_TOKEN_FILE", ROOT / "data" / "dev-bot-token"))
        from miniapp_testing.server import TEST_BOT_TOKEN

        token = token_file.read_text().strip() if token_file.exists() else TEST_BOT_TOKEN
    target = Target(
        args.url,
        args.url.rstrip("/"),
        args.database_url or os.environ.get("DATABASE_URL", ""),
        args.redis_url or os.environ.get("REDIS_URL", ""),
        token,
        "tick" if args.protocol == "tick" else "push",
    )
    target.pgid = listener_pgid(target.port)
    return target


def listener_pgid(port: int) -> int | None:
    """The process group of whoever listens on `port` (for its CPU and memory)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as fh:
            for line in list(fh)[1:]:
                parts = line.split()
                if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(parts[9])
    for pid in pids():
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return os.getpgid(pid)
    return None


# -- what the page sends, from the bundle it is served -------------------------------------


def read_wire(url: str, protocol: str, heartbeat_ms: int) -> tuple[Wire, dict[str, Any]]:
    import httpx

    # Home's page and the send form's: each route's code is its own file.
    html = "".join(httpx.get(url + path, timeout=30).text for path in ("/", "/profile/send"))
    scripts = sorted(set(re.findall(r'(?:href|src)="(/assets/[^"]+\.js)"', html)))
    bundle = "\n".join(httpx.get(url + s, timeout=30).text for s in scripts)
    wire = Wire()
    facts: dict[str, Any] = {"bundle_files": len(scripts)}
    if protocol == "tick":
        wire.periodic, wire.periodic_ms = "tick", 2000
    elif "session_state.keep_live" in bundle and heartbeat_ms >= 0:
        # The push protocol's LiveTicker is a slow safety net (components/layout.py): as
        # often as the served page sends it, unless --heartbeat-ms says otherwise.
        # The minified ticker: `...keep_live`...);return E(Ticker,{...,interval:12e4` (the
        # number as the minifier writes it; the handler comes first, the props after).
        number = r"interval:\s*(\d+(?:\.\d+)?(?:e\d+)?)"
        served = re.search(r"session_state\.keep_live.{0,800}?" + number, bundle, re.S)
        if served is None:
            raise SystemExit("the served page sends keep_live, but its interval was not found")
        wire.periodic = "keep_live"
        wire.periodic_ms = heartbeat_ms or int(float(served.group(1)))
    wire.form_inputs = "send_state.set_to" in bundle
    if m := re.search(r"initialStateHashes\s*=\s*\[([^\]]*)\]", bundle):
        wire.hashes = re.findall(r"[`\"']([0-9a-f]+)[`\"']", m.group(1))
    if m := re.search(r"stateSchema\s*=\s*[`\"']([0-9a-f]+)[`\"']", bundle):
        wire.state_schema = m.group(1)
    if m := re.search(r"\bstate_name\s*=\s*[`\"']([\w.]+)[`\"']", bundle):
        wire.state_name = m.group(1)
    for key, name in re.findall(r"\"([\w.]+_rx_state_)\":\{name:\s*[`\"'](\w+)[`\"']\}", bundle):
        wire.storage[name] = key
    if m := re.search(r"\"version\":\s*\"(\d+\.\d+\.\d+[\w.]*)\"", bundle):
        wire.subprotocol = m.group(1)
    else:
        from importlib.metadata import version

        wire.subprotocol = version("reflex")
    facts.update(
        hashes=len(wire.hashes or []),
        state_schema=wire.state_schema,
        subprotocol=wire.subprotocol,
        session_storage=sorted(wire.storage),
        bundle_sends_tick="live_state.tick" in bundle,
        form_inputs=wire.form_inputs,
        periodic=f"{wire.periodic} every {wire.periodic_ms} ms" if wire.periodic else "none",
    )
    missing = [n for n in ("tg_launch",) if n not in wire.storage]
    if wire.hashes is None or wire.state_schema is None or missing:
        print(
            f"warning: the bundle did not show {'hashes ' if wire.hashes is None else ''}"
            f"{'state_schema ' if wire.state_schema is None else ''}{' '.join(missing)}; "
            "the hydrate goes without them",
            file=sys.stderr,
        )
    if facts["bundle_sends_tick"] != (protocol == "tick"):
        print(
            f"warning: protocol {protocol}, but the served page "
            f"{'does' if facts['bundle_sends_tick'] else 'does not'} send LiveState.tick",
            file=sys.stderr,
        )
    return wire, facts


# -- /proc, Redis, PostgreSQL --------------------------------------------------------------


def pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def proc_stat(pid: int) -> tuple[str, int, float, int] | None:
    """(name, pgid, cpu seconds, rss bytes) of one process."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            raw = fh.read()
    except OSError:
        return None
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    f = raw[raw.rindex(")") + 2 :].split()
    return name, int(f[2]), (int(f[11]) + int(f[12])) / CLK_TCK, int(f[21]) * PAGE


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace").strip()[:80]
    except OSError:
        return ""


@dataclass
class Snapshot:
    t: float
    app: dict[int, tuple[float, int]]  # pid -> (cpu s, rss)
    generators: dict[int, float]
    redis_cpu: float
    postgres_cpu: float
    nginx_cpu: float
    machine: tuple[float, float]  # busy, total jiffies
    redis_info: dict[str, Any]
    pg: dict[str, float]


def machine_jiffies() -> tuple[float, float]:
    with open("/proc/stat") as fh:
        f = [int(x) for x in fh.readline().split()[1:]]
    idle = f[3] + f[4]
    return float(sum(f) - idle), float(sum(f))


class Probe:
    """Server-side figures, sampled at the steady window's edges (and every second for peaks)."""

    def __init__(self, target: Target, generator_pids: list[int]) -> None:
        self.target = target
        self.generator_pids = generator_pids
        self.redis: Any = None
        if target.redis_url:
            import redis

            self.redis = redis.Redis.from_url(target.redis_url, socket_timeout=5)
        self.peak_rss: dict[int, int] = {}
        self.names: dict[int, str] = {}
        self.instance_of: dict[int, int] = {}  # pid -> instance index (0 without a cluster)
        self.first_seen: dict[int, float] = {}
        # pid -> its last (cpu s, rss): a process that is gone (a killed instance) counts
        # with the CPU it had used when last seen (at most 1 s before it died).
        self.last_seen: dict[int, tuple[float, int]] = {}
        self.gone: set[int] = set()
        self._lock = threading.Lock()
        self.cpu_series: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        last: tuple[float, float] | None = None
        while not self._stop.wait(1.0):
            procs = self.app_procs()
            total = sum(cpu for cpu, _ in procs.values())
            now = time.monotonic()
            if last is not None and now > last[0]:
                self.cpu_series.append((now, (total - last[1]) / (now - last[0]) * 100))
            last = (now, total)

    def app_procs(self) -> dict[int, tuple[float, int]]:
        """(cpu s, rss) of every app process, of every instance; those gone since they were
        first seen keep their last figures (rss 0)."""
        groups = self.target.app_pgids()
        out = {}
        with self._lock:
            for pid in pids():
                st = proc_stat(pid)
                if st is not None and st[1] in groups:
                    out[pid] = (st[2], st[3])
                    self.peak_rss[pid] = max(self.peak_rss.get(pid, 0), st[3])
                    if pid not in self.names:
                        self.names[pid] = cmdline(pid)
                        self.instance_of[pid] = groups[st[1]]
                        self.first_seen[pid] = time.monotonic()
            for pid, (cpu, _) in self.last_seen.items():
                if pid not in out:
                    self.gone.add(pid)
                    out[pid] = (cpu, 0)
            self.last_seen.update(out)
        return out

    def nginx_cpu(self) -> float:
        group = self.target.nginx_pgid()
        if group is None:
            return 0.0
        total = 0.0
        for pid in pids():
            st = proc_stat(pid)
            if st is not None and st[1] == group:
                total += st[2]
        return total

    def snapshot(self) -> Snapshot:
        redis_cpu = postgres_cpu = 0.0
        gens = {}
        for pid in pids():
            st = proc_stat(pid)
            if st is None:
                continue
            if st[0] == "redis-server":
                redis_cpu += st[2]
            elif st[0] == "postgres":
                postgres_cpu += st[2]
            if pid in self.generator_pids:
                gens[pid] = st[2]
        info: dict[str, Any] = {}
        if self.redis is not None:
            with contextlib.suppress(Exception):
                info = {**self.redis.info("stats"), **self.redis.info("memory")}
                info["commandstats"] = self.redis.info("commandstats")
        return Snapshot(
            time.monotonic(),
            self.app_procs(),
            gens,
            redis_cpu,
            postgres_cpu,
            self.nginx_cpu(),
            machine_jiffies(),
            info,
            self.pg_stats(),
        )

    def pg_stats(self) -> dict[str, float]:
        url = self.target.database_url
        if not url.startswith("postgresql"):
            return {}
        try:
            import psycopg

            dbname = urlsplit(url).path.lstrip("/")
            with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
                conn.execute("SELECT pg_stat_clear_snapshot()")
                row = conn.execute(
                    "SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted,"
                    " tup_updated FROM pg_stat_database WHERE datname = %s",
                    (dbname,),
                ).fetchone()
        except Exception:
            return {}
        keys = ("xact_commit", "xact_rollback", "tup_returned", "tup_fetched", "tup_inserted")
        return dict(zip((*keys, "tup_updated"), map(float, row or ()), strict=False))

    def tab_bytes(self, tokens: list[str], sample: int = 60) -> tuple[float | None, int]:
        """Mean MEMORY USAGE of a tab's state keys (`<token>_<state>`), over sampled tabs."""
        if self.redis is None or not tokens:
            return None, 0
        try:
            suffixes: set[str] = set()
            for token in tokens[:5]:
                for key in self.redis.scan_iter(match=f"{token}_*", count=1000):
                    suffixes.add(key.decode().split("_", 1)[1])
            if not suffixes:
                return None, 0
            chosen = random.Random(1).sample(tokens, min(sample, len(tokens)))
            pipe = self.redis.pipeline(transaction=False)
            for token in chosen:
                for suffix in sorted(suffixes):
                    pipe.memory_usage(f"{token}_{suffix}", samples=0)
            sizes = pipe.execute()
        except Exception:
            return None, 0
        per_tab = len(suffixes)
        totals = [
            sum(x or 0 for x in sizes[i : i + per_tab]) for i in range(0, len(sizes), per_tab)
        ]
        present = [t for t in totals if t]
        return (sum(present) / len(present) if present else None), len(suffixes)


# -- one run with N members ------------------------------------------------------------------


def weights(spec: str) -> dict[str, float]:
    out = {}
    for part in spec.split(","):
        name, _, value = part.partition("=")
        out[name.strip()] = float(value)
    return out


def plan_members(args: argparse.Namespace, n: int, target: Target, run_tag: str) -> list[dict]:
    from miniapp_testing.telegram import launch_hash, sign_init_data

    rng = random.Random(int(run_tag))
    n_active = round(n * args.active_share)
    want_writers = args.writers if args.writers is not None else math.ceil(args.writes_per_s * 3)
    n_writers = min(want_writers, n - n_active)
    if args.writes_per_s > 0 and n_writers == 0 and n_active > 0:
        n_active, n_writers = n_active - 1, 1
    rest = n - n_active - n_writers
    mix = weights(args.mix)
    total = sum(mix.values()) or 1.0
    counts = {role: math.floor(rest * w / total) for role, w in mix.items()}
    counts[next(iter(mix))] += rest - sum(counts.values())
    roles = ["active"] * n_active + ["writer"] * n_writers
    for role, count in counts.items():
        roles += [role] * count
    rng.shuffle(roles)  # roles connect mixed through the ramp
    screens = weights(args.screens)
    names, ws = list(screens), list(screens.values())
    base = 7_000_000_000 + int(run_tag) * 10_000
    specs = []
    for i, role in enumerate(roles):
        uid = base + i
        user = {"id": uid, "first_name": f"Load{i}", "username": f"lt{run_tag}_{i}"}
        init_data = sign_init_data(user, target.bot_token)
        screen = "home" if role == "writer" else rng.choices(names, ws)[0]
        specs.append(
            {
                "idx": i,
                "uid": uid,
                "username": user["username"],
                "role": role,
                "screen": screen,
                "init_data": init_data,
                "launch_hash": launch_hash(init_data, version="8.0", platform="android"),
            }
        )
    return specs


def run_round(args: argparse.Namespace, target: Target, wire: Wire, n: int) -> dict[str, Any]:
    if target.cluster is not None:
        down = [i for i, server in enumerate(target.cluster.servers) if not server.running]
        for i in down:  # killed in the last round and not restarted: every round starts whole
            target.cluster.start_instance(i)
        if down:
            time.sleep(6)  # nginx tries a failed instance again after fail_timeout (5 s)
    ramp_s = args.ramp_s if args.ramp_s is not None else max(5.0, n / args.ramp_rate)
    run_tag = str(int(time.time() * 10) % 100_000)
    specs = plan_members(args, n, target, run_tag)
    roles = Counter(s["role"] for s in specs)
    n_writers = roles["writer"]
    t0 = time.monotonic() + 3.0
    order = list(range(n))
    random.Random(int(run_tag) + 1).shuffle(order)
    for rank, i in enumerate(order):
        specs[i]["connect_at"] = t0 + ramp_s * rank / max(n, 1)
    window_start = t0 + ramp_s + args.settle_s
    window_end = window_start + args.duration
    stop_at = window_end + args.grace_s
    host = urlsplit(target.url).hostname or "127.0.0.1"
    origin = f"http://localhost:{target.port}"
    recipients = [(s["idx"], s["username"]) for s in specs if s["role"] == "active"]
    procs = args.procs or max(1, min(os.cpu_count() or 1, math.ceil(n / 700)))
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    workers = []
    for w in range(procs):
        plan = Plan(
            host=host,
            port=target.port,
            origin=origin,
            wire=wire,
            t0=t0,
            window_start=window_start,
            window_end=window_end,
            stop_at=stop_at,
            writes_per_writer_s=args.writes_per_s / n_writers if n_writers else 0.0,
            write_mix=weights(args.write_mix),
            recipients=recipients or [(s["idx"], s["username"]) for s in specs],
            nav_every_s=args.nav_every_s,
            run_tag=run_tag,
            worker=w,
        )
        share = specs[w::procs]
        proc = ctx.Process(target=run_worker, args=(plan, share, out), daemon=True)
        proc.start()
        workers.append(proc)
    log_marks = target.log_marks()
    probe = Probe(target, [p.pid for p in workers if p.pid is not None])
    probe.start()
    print(
        f"[{target.label}] {n} members ({dict(roles)}), {target.protocol} protocol, "
        f"{procs} generator process(es): ramp {ramp_s:g} s, window {args.duration:g} s",
        file=sys.stderr,
    )
    results: list[dict[str, Any]] = []
    kill: Kill | None = None
    chaos: Chaos | None = None
    try:
        time.sleep(max(0.0, t0 - 0.05 - time.monotonic()))
        ramp = probe.snapshot()
        time.sleep(max(0.0, window_start - time.monotonic()))
        before = probe.snapshot()
        if args.restart_postgres_at is not None or args.restart_redis_at is not None:
            chaos = start_chaos(args, target, window_start)
        if args.kill_at is not None:
            kill = Kill(target, window_start + args.kill_at, args.restart_after)
            kill.run_until(window_end)
        time.sleep(max(0.0, window_end - time.monotonic()))
        after = probe.snapshot()
        deadline = stop_at + 60
        while len(results) < procs and time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                results.append(out.get(timeout=max(0.5, deadline - time.monotonic())))
    finally:
        probe.stop()
        for proc in workers:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5)
        if kill is not None:
            kill.finish()
        if chaos is not None:
            chaos.finish()
    crashes = [r["crash"] for r in results if "crash" in r]
    if crashes or len(results) < procs:
        raise SystemExit(f"generator failed: {crashes or 'no result from some workers'}")
    tokens = [m["token"] for r in results for m in r["members"] if m["hydrate_ms"] is not None]
    tab_bytes, tab_keys = probe.tab_bytes(tokens)
    logs = target.log_since(log_marks)
    return analyse(
        args,
        target,
        n,
        specs,
        results,
        before,
        after,
        probe,
        {
            "tab_bytes": tab_bytes,
            "tab_keys": tab_keys,
            "logs": logs,
            "kill": kill,
            "chaos": chaos.figures(window_start) if chaos is not None else None,
            "books": check_books(
                target.database_url,
                run_tag,
                [k for r in results for k in r["rec"]["resent_keys"]],
            ),
            "procs": procs,
            "ramp_cpu_s": sum(
                before.app.get(p, (0, 0))[0] - ramp.app.get(p, (0, 0))[0] for p in before.app
            ),
            "ramp_s": before.t - ramp.t,
        },
        (t0, window_start, window_end, stop_at),
    )


def start_chaos(args: argparse.Namespace, target: Target, window_start: float) -> Chaos:
    """The REST client and the restarts of --restart-postgres-at / --restart-redis-at."""
    from sqlalchemy import text

    from app.domain.db import Database

    db = Database(target.database_url)
    try:
        with db.read() as s:
            rows = s.execute(
                text(
                    "SELECT id, first_name, username FROM users WHERE username IS NOT NULL "
                    "ORDER BY balance DESC LIMIT 2"
                )
            ).all()
    finally:
        db.engine.dispose()
    sender, recipient = rows[0], rows[1]
    restarts = [
        Restart(what, window_start + at)
        for what, at in (("postgres", args.restart_postgres_at), ("redis", args.restart_redis_at))
        if at is not None
    ]
    chaos = Chaos(
        target.url,
        target.bot_token,
        {"id": sender.id, "first_name": sender.first_name, "username": sender.username},
        recipient.username,
        sorted(restarts, key=lambda r: r.at),
    )
    chaos.start()
    return chaos


def stats(values: list[float], keys: tuple[str, ...] = ("p50", "p95", "p99", "max")) -> dict:
    out: dict[str, Any] = {"n": len(values)}
    for k in keys:
        if k == "max":
            out[k] = max(values) if values else None
        else:
            v = percentile(values, float(k[1:]))
            out[k] = None if v is None else round(v, 1)
    if out.get("max") is not None:
        out["max"] = round(out["max"], 1)
    return out


def analyse(
    args: argparse.Namespace,
    target: Target,
    n: int,
    specs: list[dict],
    results: list[dict],
    before: Snapshot,
    after: Snapshot,
    probe: Probe,
    extra: dict[str, Any],
    times: tuple[float, float, float, float],
) -> dict[str, Any]:
    t0, w0, w1, stop_at = times
    window = after.t - before.t
    members = sorted((m for r in results for m in r["members"]), key=lambda m: m["idx"])
    recs = [r["rec"] for r in results]

    def total(name: str) -> int:
        return sum(r[name] for r in recs)

    def merged(name: str) -> Counter[str]:
        c: Counter[str] = Counter()
        for r in recs:
            c.update(r[name])
        return c

    hydrates = [ms for r in recs for _, ms in r["hydrates"]]
    failed_hydrates = sum(1 for m in members if m["hydrate_ms"] is None)
    by_kind: dict[str, list[float]] = defaultdict(list)
    for r in recs:
        for kind, sent, ms in r["events"]:
            if w0 <= sent <= w1:
                by_kind[kind].append(ms)
    headline = [ms for k in HEADLINE_KINDS for ms in by_kind.get(k, [])]

    # write -> screen
    transfers = [t for r in recs for t in r["transfers"]]
    ok_transfers = [t for t in transfers if t[2] and w0 <= t[1] <= w1]
    watchers = {
        s: [m for m in members if m["role"] == "active" and m["screen"] == s and m["hydrated_at"]]
        for s in ("home", "feed")
    }
    # (sent, ms) per screen. A member whose socket was down when the write was sent is not
    # counted for it; one that dropped after it and never showed it is not counted as missed
    # (what it shows after it is bound again is counted, reconnect included).
    lat: dict[str, list[tuple[float, float]]] = {"feed": [], "home": [], "balance": []}
    missed: Counter[str] = Counter()

    def down_at(m: dict[str, Any], t: float) -> bool:
        return any(
            d["closed_at"] <= t and (d["bound_at"] is None or d["bound_at"] > t) for d in m["drops"]
        )

    def dropped_after(m: dict[str, Any], t: float) -> bool:
        return any(d["closed_at"] > t for d in m["drops"])

    for note, sent, _, _, _ in ok_transfers:
        for screen, group in watchers.items():
            for m in group:
                if m["hydrated_at"] > sent or down_at(m, sent):
                    continue
                seen = m["seen"].get(note)
                if seen is not None:
                    lat[screen].append((sent, max(0.0, seen - sent) * 1000))
                elif not dropped_after(m, sent):
                    missed[screen] += 1
    incoming: dict[int, list[float]] = defaultdict(list)
    for _, sent, _, _, to_idx in ok_transfers:
        incoming[to_idx].append(sent)
    for idx, sends in incoming.items():
        m = members[idx]
        if m["role"] != "active" or not m["balances"]:
            continue
        base = m["balances"][0][1]
        sends.sort()
        for k, sent in enumerate(sends, start=1):
            if down_at(m, sent):
                continue
            reached = next((t for t, b in m["balances"] if b >= base + k), None)
            if reached is not None:
                lat["balance"].append((sent, max(0.0, reached - sent) * 1000))
            elif not dropped_after(m, sent):
                missed["balance"] += 1
    kill: Kill | None = extra["kill"]
    killed_at = kill.killed_at if kill is not None else None
    w2s_after = {
        k: [ms for sent, ms in v if killed_at is not None and sent >= killed_at]
        for k, v in lat.items()
    }
    lat_ms = {k: [ms for _, ms in v] for k, v in lat.items()}
    w2s = lat_ms["feed"] + lat_ms["home"] + lat_ms["balance"]

    errors = merged("errors")
    timeouts = merged("timeouts")
    logs: list[str] = extra["logs"]
    log = "\n".join(logs)
    log_errors = {
        "LockExpiredError": lock_expiries(log),
        "Traceback": log.count("Traceback (most recent call last)"),
        "backend exception": log.count("[Reflex Backend Exception]"),
    }
    # Which events' state changes were lost to an expired lock (the event ran, its state was
    # not saved): "... Happened in event: <state path>.<handler>" in each traceback.
    lock_expired_in = Counter(
        m.group(1).split("____")[-1]
        for m in re.finditer(
            r"LockExpiredError: Lock expired.*?Happened in event:\s+([\w.]+)", log, re.S
        )
    )
    log_errors_by_instance = [
        {
            "LockExpiredError": lock_expiries(text),
            "Traceback": text.count("Traceback (most recent call last)"),
            "backend exception": text.count("[Reflex Backend Exception]"),
        }
        for text in logs
    ]
    n_errors = (
        errors["error_toast"]
        + errors["state_mismatch"]
        + errors["connect_error"]
        + errors["server_disconnect"]
        + sum(timeouts.values())
        + log_errors["LockExpiredError"]
        + log_errors["backend exception"]
    )

    # CPU, memory, Redis, PostgreSQL in the window
    app_cpu = sum(after.app.get(p, (0, 0))[0] - before.app.get(p, (0, 0))[0] for p in after.app)
    gen_cpu = sum(after.generators.get(p, 0) - v for p, v in before.generators.items())
    busy = (after.machine[0] - before.machine[0]) / max(after.machine[1] - before.machine[1], 1)
    roles = Counter(m["role"] for m in members if m["hydrate_ms"] is not None)
    duty = args.resume_active_s / (args.resume_active_s + args.resume_minimized_s)
    active_members = (
        roles["active"] + roles["writer"] + roles["navigating"] + roles["resuming"] * duty
    )
    per_process = {
        str(pid): {
            "cmd": probe.names.get(pid, ""),
            "cpu_pct": round((cpu - before.app.get(pid, (0, 0))[0]) / window * 100, 1),
            "rss_mb": round(rss / 2**20, 1),
            "peak_rss_mb": round(probe.peak_rss.get(pid, rss) / 2**20, 1),
        }
        for pid, (cpu, rss) in after.app.items()
    }
    by_instance: dict[str, dict[str, Any]] = {}
    for pid, (cpu, rss) in after.app.items():
        name = str(probe.instance_of.get(pid, 0))
        if killed_at is not None and probe.first_seen.get(pid, 0) > killed_at:
            name += " restarted"
        entry = by_instance.setdefault(name, {"cpu_s": 0.0, "rss_mb": 0.0, "processes": 0})
        entry["cpu_s"] += cpu - before.app.get(pid, (0, 0))[0]
        entry["rss_mb"] += probe.peak_rss.get(pid, rss) / 2**20
        entry["processes"] += 1
    server_by_instance = {
        i: {
            "cpu_pct": round(e["cpu_s"] / window * 100, 1),
            "peak_rss_mb": round(e["rss_mb"], 1),
            "processes": e["processes"],
        }
        for i, e in sorted(by_instance.items())
    }
    nginx_cpu = after.nginx_cpu - before.nginx_cpu
    ri0, ri1 = before.redis_info, after.redis_info
    redis_cmds = None
    top_cmds: dict[str, float] = {}
    if ri0 and ri1:
        redis_cmds = (ri1["total_commands_processed"] - ri0["total_commands_processed"]) / window
        cs0, cs1 = ri0.get("commandstats", {}), ri1.get("commandstats", {})
        deltas = {
            k.removeprefix("cmdstat_"): (v["calls"] - cs0.get(k, {}).get("calls", 0)) / window
            for k, v in cs1.items()
        }
        top_cmds = dict(
            sorted(((k, round(v, 1)) for k, v in deltas.items() if v), key=lambda x: -x[1])[:8]
        )
    pg = {}
    if before.pg and after.pg:
        pg = {k: round((after.pg[k] - before.pg[k]) / window, 1) for k in after.pg}
    writes = merged("writes")
    rec_sum = {
        k: total(k) for k in ("frames_received", "bytes_received", "frames_sent", "bytes_sent")
    }
    cpu_peak = max((c for t, c in probe.cpu_series if w0 <= t <= w1), default=None)
    figures: dict[str, Any] = {
        "label": target.label,
        "protocol": target.protocol,
        "members": n,
        "active_share": args.active_share,
        "writes_per_s": args.writes_per_s,
        "duration_s": round(window, 1),
        "ramp_s": round(extra["ramp_s"] - args.settle_s, 1),
        "workers": args.workers,
        "instances": max(1, args.instances),
        "roles": dict(Counter(s["role"] for s in specs)),
        "screens": dict(Counter(s["screen"] for s in specs if s["role"] == "active")),
        "hydrate_ms": stats(hydrates),
        "failed_hydrates": failed_hydrates,
        # App CPU from the first connect to the window (ramp + settle), per member hydrated:
        # mostly first opens (registration, welcome bonus, the screen's reads).
        "ramp_server_cpu_pct": round(extra["ramp_cpu_s"] / extra["ramp_s"] * 100, 1),
        "cpu_ms_per_hydrate": (
            round(extra["ramp_cpu_s"] * 1000 / len(hydrates), 1) if hydrates else None
        ),
        "hydrate_failures": dict(merged("hydrate_failures")),
        # Through the ramp, per 5 s of first opens: (s after the first, n, p50 ms, max ms)
        "hydrate_timeline": hydrate_timeline([h for r in recs for h in r["hydrates"]], t0),
        "rehydrate_ms": stats([ms for r in recs for _, ms in r["rehydrates"]]),
        "event_ms": stats(headline),
        "event_ms_by_kind": {k: stats(v) for k, v in sorted(by_kind.items())},
        "write_to_screen_ms": stats(w2s, ("p50", "p95", "max")),
        "write_to_screen_by_kind": {k: stats(v, ("p50", "p95", "max")) for k, v in lat_ms.items()},
        "missed": missed["feed"] + missed["balance"],
        "missed_by_kind": dict(missed),
        "writes_done_per_s": round(sum(writes.values()) / window, 2),
        "writes": dict(writes),
        "write_failures": dict(merged("write_failures")),
        "domain_errors": dict(merged("domain_errors").most_common(10)),
        "transfers_ok": len(ok_transfers),
        "errors": n_errors,
        "error_kinds": {**dict(errors), **{f"timeout:{k}": v for k, v in timeouts.items()}},
        "log_errors": log_errors,
        "log_errors_by_instance": log_errors_by_instance,
        "lock_expired_in": dict(lock_expired_in.most_common(12)),
        "error_samples": [s for r in recs for s in r["error_samples"]][:3],
        "log_tracebacks": first_tracebacks(log),
        "log_exceptions": dict(
            Counter(
                m.group(1)[:120]
                for m in re.finditer(r"^((?:[\w.]+\.)?\w*(?:Error|Exception)\b[^\n]*)$", log, re.M)
            ).most_common(6)
        ),
        "disconnects": total("disconnects"),
        "server_cpu_pct": round(app_cpu / window * 100, 1),
        "server_cpu_peak_1s_pct": None if cpu_peak is None else round(cpu_peak, 1),
        "server_processes": per_process,
        "server_by_instance": server_by_instance,
        "nginx_cpu_pct": round(nginx_cpu / window * 100, 1) if target.cluster else None,
        "server_rss_mb": round(sum(rss for _, rss in after.app.values()) / 2**20, 1),
        "active_members": round(active_members, 1),
        "cpu_ms_per_active_member_s": (
            round(app_cpu * 1000 / (active_members * window), 3) if active_members else None
        ),
        "generator_cpu_pct": round(gen_cpu / window * 100, 1),
        "generator_processes": extra["procs"],
        "machine_busy_pct": round(busy * 100, 1),
        "other_cpu_pct": round(
            busy * 100 * (os.cpu_count() or 1)
            - (app_cpu + gen_cpu + after.redis_cpu - before.redis_cpu) / window * 100
            - (after.postgres_cpu - before.postgres_cpu) / window * 100
            - nginx_cpu / window * 100,
            1,
        ),
        "redis_cpu_pct": round((after.redis_cpu - before.redis_cpu) / window * 100, 1),
        "postgres_cpu_pct": round((after.postgres_cpu - before.postgres_cpu) / window * 100, 1),
        "redis_commands_per_s": None if redis_cmds is None else round(redis_cmds, 1),
        "redis_top_commands_per_s": top_cmds,
        "redis_used_memory_mb": round(ri1["used_memory"] / 2**20, 1) if ri1 else None,
        "redis_bytes_per_tab": None if extra["tab_bytes"] is None else round(extra["tab_bytes"]),
        "redis_keys_per_tab": extra["tab_keys"],
        "pg_per_s": pg,
        "pg_xact_per_s": pg.get("xact_commit"),
        "ticks_sent": total("ticks"),
        "ticks_per_s": round(total("ticks_in_window") / window, 1),
        "ticks_unanswered": total("unanswered_ticks"),
        "pushes_received": total("unsolicited"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "redirects": total("redirects"),
        "events_sent": dict(merged("sent")),
        **rec_sum,
        "kb_received_per_active_member_s": round(
            rec_sum["bytes_received"] / 1024 / max(active_members, 1) / (stop_at - t0), 2
        ),
    }
    figures["reconnect_failures"] = dict(merged("reconnect_failures"))
    figures["new_tokens"] = total("new_tokens")
    books = extra["books"]
    if kill is not None:
        figures["kill"] = kill_figures(kill, members, recs, w1, w2s_after, books, transfers)
    if extra.get("chaos") is not None:
        figures["chaos"] = extra["chaos"]
    figures["books"] = {k: v for k, v in books.items() if k not in ("notes", "resent_keys")} or None
    figures["held"] = held(figures, args)
    return figures


def lock_expiries(log: str) -> int:
    """LockExpiredErrors in an app log: one per traceback's last line (the name also shows
    in the `raise` line above it)."""
    return len(re.findall(r"^[\w.]*LockExpiredError\b", log, re.M))


def hydrate_timeline(
    hydrates: list[tuple[float, float]], t0: float, step_s: float = 5.0
) -> list[tuple[int, int, int, int]]:
    buckets: dict[int, list[float]] = defaultdict(list)
    for started, ms in hydrates:
        buckets[int((started - t0) // step_s)].append(ms)
    return [
        (int(b * step_s), len(v), round(percentile(v, 50) or 0), round(max(v)))
        for b, v in sorted(buckets.items())
    ]


def first_tracebacks(log: str, limit: int = 2) -> list[str]:
    """The first distinct tracebacks of the app's log in this round (by their last line)."""
    out: dict[str, str] = {}
    for block in log.split("Traceback (most recent call last):")[1:]:
        lines = [ln for ln in block.splitlines() if ln.strip()]
        tail = next((ln for ln in lines if re.match(r"^[\w.]+(Error|Exception)\b", ln)), "")
        if tail and tail.split(":")[0] not in out and len(out) < limit:
            out[tail.split(":")[0]] = "\n".join(lines[:60])[-3000:]
    return list(out.values())


def held(f: dict[str, Any], args: argparse.Namespace) -> bool:
    p95 = f["event_ms"]["p95"]
    return (
        p95 is not None
        and p95 <= args.knee_p95_ms
        and f["errors"] == 0
        and f["disconnects"] == 0
        and f["failed_hydrates"] == 0
        and f["missed"] <= args.missed_tolerance
    )


# -- output ----------------------------------------------------------------------------------

COLUMNS = (
    ("checkout", 14),
    ("proto", 5),
    ("N", 5),
    ("hydr p50/p95", 13),
    ("event p50/p95/p99", 18),
    ("tick p95", 8),
    ("w2s p50/p95/max", 17),
    ("miss", 5),
    ("err", 4),
    ("disc", 4),
    ("srv CPU", 7),
    ("ms/act.s", 8),
    ("gen CPU", 7),
    ("redis/s", 7),
    ("pg tx/s", 7),
    ("B/tab", 6),
    ("held", 4),
)


def fmt(v: Any, spec: str = ".0f") -> str:
    return "-" if v is None else format(v, spec)


def row(f: dict[str, Any]) -> str:
    h, e, w = f["hydrate_ms"], f["event_ms"], f["write_to_screen_ms"]
    tick = f["event_ms_by_kind"].get("tick", {}).get("p95")
    cells = (
        f["label"][:14],
        f["protocol"],
        str(f["members"]),
        f"{fmt(h['p50'])}/{fmt(h['p95'])}",
        f"{fmt(e['p50'])}/{fmt(e['p95'])}/{fmt(e['p99'])}",
        fmt(tick),
        f"{fmt(w['p50'])}/{fmt(w['p95'])}/{fmt(w['max'])}",
        str(f["missed"]),
        str(f["errors"]),
        str(f["disconnects"]),
        f"{fmt(f['server_cpu_pct'])}%",
        fmt(f["cpu_ms_per_active_member_s"], ".2f"),
        f"{fmt(f['generator_cpu_pct'])}%",
        fmt(f["redis_commands_per_s"]),
        fmt(f["pg_xact_per_s"]),
        fmt(f["redis_bytes_per_tab"]),
        "yes" if f["held"] else "NO",
    )
    return " ".join(c.rjust(w) for c, (_, w) in zip(cells, COLUMNS, strict=True))


def header() -> str:
    line = " ".join(name.rjust(w) for name, w in COLUMNS)
    return f"{line}\n{'-' * len(line)}"


def details(f: dict[str, Any]) -> str:
    kinds = ", ".join(
        f"{k} {fmt(v['p50'])}/{fmt(v['p95'])} (n={v['n']})"
        for k, v in f["event_ms_by_kind"].items()
    )
    wk = ", ".join(
        f"{k} {fmt(v['p50'])}/{fmt(v['p95'])}/{fmt(v['max'])} (n={v['n']})"
        for k, v in f["write_to_screen_by_kind"].items()
    )
    procs = "; ".join(
        f"{p['cmd'][-30:]} {p['cpu_pct']}% {p['peak_rss_mb']} MB"
        for p in f["server_processes"].values()
    )
    lines = [
        f"  {f['label']} N={f['members']}: roles {f['roles']}, active screens {f['screens']}",
        f"    events p50/p95 ms: {kinds}",
        f"    write->screen p50/p95/max ms: {wk}; missed {f['missed_by_kind']}",
        f"    writes/s done {f['writes_done_per_s']} {f['writes']}, failures "
        f"{f['write_failures']}, domain errors {f['domain_errors']}",
        f"    hydrate: server {f['ramp_server_cpu_pct']}% through ramp + settle, "
        f"{f['cpu_ms_per_hydrate']} CPU ms per member hydrated\n"
        f"    hydrate failed {f['failed_hydrates']} {f['hydrate_failures']}; errors "
        f"{f['error_kinds']}; app log {f['log_errors']} {f['log_exceptions']}"
        + (f"; lock expired in {f['lock_expired_in']}" if f["lock_expired_in"] else ""),
        f"    server {f['server_cpu_pct']}% (peak 1 s {f['server_cpu_peak_1s_pct']}%), "
        f"RSS {f['server_rss_mb']} MB: {procs}",
        f"    machine busy {f['machine_busy_pct']}% of all CPUs; generators "
        f"{f['generator_cpu_pct']}% in {f['generator_processes']} process(es); redis-server "
        f"{f['redis_cpu_pct']}%, postgres {f['postgres_cpu_pct']}%, anything else "
        f"{f['other_cpu_pct']}% (of one CPU)",
        f"    redis {f['redis_commands_per_s']} cmd/s {f['redis_top_commands_per_s']}; "
        f"{f['redis_bytes_per_tab']} B/tab in {f['redis_keys_per_tab']} keys; "
        f"used {f['redis_used_memory_mb']} MB",
        f"    postgres/s {f['pg_per_s']}",
        f"    ticks/s {f['ticks_per_s']} ({f['ticks_unanswered']} unanswered), deltas nobody "
        f"asked for (pushes) {f['pushes_received']}, load average {f['load_average']}, "
        f"KB/s received per active member {f['kb_received_per_active_member_s']}",
    ]
    if f["instances"] > 1:
        lines.insert(
            6,
            f"    {f['instances']} instances: {f['server_by_instance']}; nginx "
            f"{f['nginx_cpu_pct']}%; app log per instance {f['log_errors_by_instance']}; "
            f"reconnect attempts that failed {f['reconnect_failures']}",
        )
    if "kill" in f:
        lines.append(kill_details(f))
    if "chaos" in f:
        lines.append(chaos_lines(f))
    lines.append(books_lines(f))
    return "\n".join(lines)


# -- main --------------------------------------------------------------------------------------


def rounds_for(args: argparse.Namespace, target: Target) -> Iterator[dict[str, Any]]:
    wire, facts = read_wire(target.url, target.protocol, args.heartbeat_ms)
    print(f"[{target.label}] page protocol: {facts}", file=sys.stderr)
    sizes = [int(x) for x in str(args.members).split(",")]
    if not args.find_knee:
        for i, n in enumerate(sizes):
            if i:
                time.sleep(args.pause_s)
            f = run_round(args, target, wire, n)
            f["page"] = facts
            yield f
        return
    n, knee = sizes[0], 0
    while n <= args.max_members:
        f = run_round(args, target, wire, n)
        f["page"] = facts
        knee = n if f["held"] else knee
        f["knee_members"] = knee
        yield f
        if not f["held"]:
            break
        n *= 2
        time.sleep(args.pause_s)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--members", default="200", help="N, or several: 100,250,500")
    parser.add_argument("--active-share", type=float, default=0.8)
    parser.add_argument("--writes-per-s", type=float, default=10.0)
    parser.add_argument("--duration", type=float, default=60.0, help="steady window, s")
    parser.add_argument(
        "--ramp-s", type=float, help="members connect over this (default: N / --ramp-rate)"
    )
    parser.add_argument(
        "--ramp-rate", type=float, default=20.0, help="first opens per second (min 5 s)"
    )
    parser.add_argument("--settle-s", type=float, default=5.0, help="after the ramp, unmeasured")
    parser.add_argument("--grace-s", type=float, default=5.0, help="after the window, no writes")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--url", help="load an app that is already running")
    parser.add_argument("--bot-token", help="with --url: the token it validates initData with")
    parser.add_argument("--database-url", help="with --url: for pg_stat_database")
    parser.add_argument("--redis-url", help="with --url: for INFO and tab sizes")
    parser.add_argument("--protocol", choices=("auto", "tick", "push"), default="auto")
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("GRANIAN_WORKERS") or os.environ.get("WORKERS") or 0),
        help="app worker processes (GRANIAN_WORKERS; default $GRANIAN_WORKERS, $WORKERS, or "
        "the core count)",
    )
    parser.add_argument("--procs", type=int, default=0, help="generator processes (0: auto)")
    parser.add_argument("--find-knee", action="store_true")
    parser.add_argument("--max-members", type=int, default=4000)
    parser.add_argument("--knee-p95-ms", type=float, default=KNEE_P95_MS)
    parser.add_argument("--missed-tolerance", type=int, default=0)
    parser.add_argument("--against", metavar="REF", help="also run a git worktree of REF")
    parser.add_argument("--writers", type=int, help="writer members (default: 3 per write/s)")
    parser.add_argument("--mix", default="minimized=2,navigating=1,resuming=1")
    parser.add_argument("--screens", default="home=4,feed=3,leaderboard=1.5,market=1.5")
    parser.add_argument("--write-mix", default="transfer=6,buy=2,claim=2")
    parser.add_argument("--nav-every-s", type=float, default=4.0)
    parser.add_argument("--resume-active-s", type=float, default=6.0)
    parser.add_argument("--resume-minimized-s", type=float, default=4.0)
    parser.add_argument(
        "--heartbeat-ms",
        type=int,
        default=0,
        help="push protocol: SessionState.keep_live every this many ms while active, when the "
        "page has it (default 0: the interval the served page uses); -1: none",
    )
    parser.add_argument(
        "--checkout", type=Path, help="serve this checkout (a folder) instead of the script's own"
    )
    parser.add_argument("--pause-s", type=float, default=5.0, help="between rounds")
    parser.add_argument("--keep-db", action="store_true", help="keep the bench's database")
    parser.add_argument(
        "--instances",
        type=int,
        default=0,
        help="N >= 2: N app instances behind nginx (miniapp_testing.cluster: one build, the "
        "same database and Redis db), loaded through nginx; --workers is then per instance "
        "(default: the cores shared out)",
    )
    parser.add_argument("--nginx-workers", default="auto", help="with --instances")
    parser.add_argument(
        "--restart-postgres-at",
        type=float,
        metavar="S",
        help="restart PostgreSQL S seconds into the window (pg_ctlcluster), under load",
    )
    parser.add_argument(
        "--restart-redis-at",
        type=float,
        metavar="S",
        help="restart Redis (SHUTDOWN NOSAVE, then started again) S seconds into the window",
    )
    parser.add_argument(
        "--kill-at",
        type=float,
        metavar="S",
        help="with --instances: SIGKILL instance 0 S seconds into the steady window",
    )
    parser.add_argument(
        "--restart-after",
        type=float,
        metavar="S2",
        help="with --kill-at: start the killed instance again S2 seconds after the kill",
    )
    args = parser.parse_args()
    if args.instances == 1 or args.instances < 0:
        parser.error("--instances N needs N >= 2 (leave it out for one app)")
    if args.instances:
        if args.url:
            parser.error("--instances starts the cluster itself: leave out --url")
        from miniapp_testing.cluster import default_workers

        args.workers = args.workers or default_workers(args.instances)
    else:
        args.workers = args.workers or os.cpu_count() or 1
    if args.kill_at is not None:
        if not args.instances:
            parser.error("--kill-at needs --instances N (N >= 2)")
        if not 0 <= args.kill_at < args.duration:
            parser.error("--kill-at must fall inside the steady window (0 <= S < --duration)")
    if args.restart_after is not None and args.kill_at is None:
        parser.error("--restart-after needs --kill-at")
    if args.url and args.against:
        parser.error("--against starts both apps itself: leave out --url")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    figures: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        plans: list[tuple[str, Path | None, str]] = []
        if args.url:
            plans.append((args.url, None, ""))
        else:
            here = args.checkout.resolve() if args.checkout else ROOT
            label = "this checkout" if here == ROOT else here.name
            plans.append((label, here, DEFAULT_REDIS))
            if args.against:
                plans.append((args.against, None, AGAINST_REDIS))
        for label, checkout, redis_default in plans:
            target: Target | None = None
            worktree: Path | None = None
            try:
                if args.url:
                    target = url_target(args)
                else:
                    if checkout is None:
                        worktree = checkout = checkout_of(label, Path(tmp))
                    # No spaces: nginx's config takes the folder's paths unquoted.
                    workdir = Path(tmp) / re.sub(r"[^\w.-]", "_", label)
                    target = start_target(args, label, checkout, workdir, redis_default)
                print(header(), file=sys.stderr)
                for f in rounds_for(args, target):
                    figures.append(f)
                    print(row(f), file=sys.stderr)
                    if f.get("kill", {}).get("killed"):
                        print(kill_header() + "\n" + kill_row(f), file=sys.stderr)
            finally:
                if target is not None:
                    stop_target(target, args.keep_db)
                if worktree is not None:
                    subprocess.run(
                        ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(worktree)],
                        check=False,
                        capture_output=True,
                    )
    print()
    print(header())
    for f in figures:
        print(row(f))
    killed = [f for f in figures if f.get("kill", {}).get("killed")]
    if killed:
        print()
        print(kill_header())
        for f in killed:
            print(kill_row(f))
    print()
    for f in figures:
        print(details(f))
    knees = {f["label"]: f.get("knee_members") for f in figures if "knee_members" in f}
    if knees:
        print(
            f"\nknee (largest N with event p95 <= {args.knee_p95_ms:g} ms, nothing failed): {knees}"
            + (" (0: not even the first N held; start lower)" if 0 in knees.values() else "")
        )
    if args.json:
        out: dict[str, Any] = dict(figures[-1]) if len(figures) == 1 else {"runs": figures}
        # Only --find-knee searches for it; a plain run says null.
        out["knee_members"] = (
            (knees if len(knees) > 1 else next(iter(knees.values()))) if knees else None
        )
        args.json.write_text(json.dumps(out, indent=2, default=str))
        print(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
