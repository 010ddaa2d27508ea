"""Two app instances behind nginx, one PostgreSQL, one Redis: scale out, and lose one.

The cluster is what `make cluster` runs (miniapp_testing.cluster): one frontend build, two
instances serving it, nginx in front with the config in deploy/. nginx adds X-Upstream (the
instance that answered) to every response, including a socket's handshake, which Chromium
reports through the DevTools protocol: that is how the test knows which instance holds
each member's socket.
"""

from __future__ import annotations

import itertools
import os
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import redis
from sqlalchemy import text

from app.domain.db import Database
from app.domain.ledger import books, books_balanced
from app.domain.migrate import upgrade
from app.domain.seed import seed
from app.domain.users import find_by_username
from miniapp_testing.ci import missing
from miniapp_testing.cluster import Cluster, NginxUnavailable, ensure_nginx
from miniapp_testing.plugin import phone_context
from miniapp_testing.server import TEST_BOT_TOKEN, AppDidNotStart
from miniapp_testing.telegram import sign_init_data
from tests.support.databases import pg_database
from tests.support.waiting import until

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
REDIS_URL = "redis://127.0.0.1:6379/11"
# Chromium members (seeded demo members) and the members who send over REST meanwhile.
BROWSER_MEMBERS = ("alice", "bob", "carol", "dave")
TOP_UP = 10_000
# Generous: the test must also pass on a busy machine.
SCREEN_TIMEOUT_MS = 45_000
RECONNECT_TIMEOUT_S = 90.0


def _last_upstream(header: str) -> str:
    """X-Upstream lists every instance nginx tried ("a, b"): the last one answered."""
    return header.split(",")[-1].strip()


# --------------------------------------------------------------------------------------
# The cluster: a fresh PostgreSQL database, Redis db 11, two instances, nginx.
# --------------------------------------------------------------------------------------


@dataclass
class Env:
    cluster: Cluster
    db: Database
    pg_url: str


def _top_up(db: Database, user_ids: list[int], amount: int) -> None:
    """Rewards booked as the app books them (balance and transaction), so the books hold."""
    with db.engine.begin() as conn:
        for user_id in user_ids:
            conn.execute(
                text("UPDATE users SET balance = balance + :a WHERE id = :id"),
                {"a": amount, "id": user_id},
            )
            conn.execute(
                text(
                    "INSERT INTO transactions (kind, amount, actor_id, to_user_id, note, "
                    "created_at) VALUES ('reward', :a, :id, :id, 'cluster test top-up', now())"
                ),
                {"a": amount, "id": user_id},
            )


def _rest_senders(db: Database) -> list[dict[str, Any]]:
    """Two seeded members who are not on a screen here: they send over REST."""
    with db.read() as s:
        rows = s.execute(
            text(
                "SELECT id, first_name, username FROM users WHERE username IS NOT NULL "
                "AND username NOT IN ('alice', 'bob', 'carol', 'dave', 'erin') "
                "ORDER BY id LIMIT 2"
            )
        ).all()
    return [{"id": r.id, "first_name": r.first_name, "username": r.username} for r in rows]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    try:
        ensure_nginx()
    except NginxUnavailable as exc:
        missing(f"nginx is not installed and could not be installed: {exc}")
    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
    except redis.RedisError as exc:
        missing(f"Redis is not reachable at {REDIS_URL}: {exc}")
    with pg_database(f"miniapp_nginx_{os.getpid()}") as pg_url:
        db = Database(pg_url)
        cluster: Cluster | None = None
        try:
            upgrade(pg_url)
            seed(db, users=50, transactions=300, quiet=True)
            members = [find_by_username(db, u) for u in (*BROWSER_MEMBERS, "erin")]
            ids = [m.id for m in members if m is not None] + [m["id"] for m in _rest_senders(db)]
            # Before any instance starts, so no cache holds the old balances.
            _top_up(db, ids, TOP_UP)
            cluster = Cluster(
                tmp_path_factory.mktemp("nginx-cluster"),
                instances=2,
                database_url=pg_url,
                redis_url=REDIS_URL,
                workers=1,
            )
            try:
                cluster.start()
            except AppDidNotStart as exc:
                pytest.fail(str(exc))
            yield Env(cluster, db, pg_url)
        finally:
            if cluster is not None:
                cluster.stop()
            db.dispose()
            redis.Redis.from_url(REDIS_URL).flushdb()


# --------------------------------------------------------------------------------------
# Members: Chromium pages whose socket handshakes are watched, and REST senders.
# --------------------------------------------------------------------------------------


@dataclass
class Member:
    """A member's phone: one Chromium page, and the instance behind each of its sockets."""

    username: str
    page: Any
    handshakes: list[str] = field(default_factory=list)

    def watch(self) -> None:
        cdp = self.page.context.new_cdp_session(self.page)
        cdp.on("Network.webSocketHandshakeResponseReceived", self._on_handshake)
        cdp.send("Network.enable")

    def _on_handshake(self, params: dict[str, Any]) -> None:
        response = params.get("response", {})
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        if response.get("status") == 101:
            self.handshakes.append(_last_upstream(headers.get("x-upstream", "?")))

    @property
    def socket_on(self) -> str:
        return self.handshakes[-1] if self.handshakes else ""

    def shown_balance(self) -> int:
        return int(re.sub(r"\D", "", self.page.locator("#member-balance").inner_text()))


def _open_member(chromium: Any, cluster: Cluster, username: str) -> Member:
    member = Member(username, phone_context(chromium).new_page())
    member.watch()
    member.page.goto(cluster.launch_url(username))
    member.page.locator("#member-name").wait_for(timeout=SCREEN_TIMEOUT_MS)
    until(lambda: member.handshakes, f"@{username}'s socket", 30, member.page)
    return member


def _auth(user: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"tma {sign_init_data(user, TEST_BOT_TOKEN)}"}


def _count_key(db: Database, key: str) -> int:
    with db.read() as s:
        return int(
            s.execute(
                text("SELECT COUNT(*) FROM transactions WHERE idempotency_key = :k"), {"k": key}
            ).scalar_one()
        )


@dataclass
class TransferLoad:
    """Members sending 1 point to each other over REST through nginx, each transfer retried
    with its idempotency key until it is answered (a 502 when its instance died, say)."""

    base: str
    senders: list[dict[str, Any]]
    recipients: list[str]
    done: dict[str, str] = field(default_factory=dict)  # key -> transaction id
    retries: Counter[str] = field(default_factory=Counter)  # what a retry answered
    served_by: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> TransferLoad:
        self._thread = threading.Thread(target=self._run, name="transfer-load", daemon=True)
        self._thread.start()
        return self

    def finish(self) -> None:
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout=120)
            assert not self._thread.is_alive(), "the transfer load did not finish"

    def _run(self) -> None:
        pairs = itertools.cycle(
            [(s, r) for s in self.senders for r in self.recipients if r != s["username"]]
        )
        with httpx.Client(timeout=15) as client:
            while not self.stop.is_set() and not self.errors:
                sender, to = next(pairs)
                key = f"load-{uuid.uuid4().hex}"
                body = {"to": f"@{to}", "amount": 1, "note": "load", "idempotency_key": key}
                self._send(client, sender, body)

    def _send(self, client: httpx.Client, sender: dict[str, Any], body: dict[str, Any]) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                response = client.post(
                    f"{self.base}/api/transfers", json=body, headers=_auth(sender)
                )
            except httpx.TransportError as exc:
                self.retries[type(exc).__name__] += 1
                continue
            if response.status_code in (502, 503, 504):
                self.retries[str(response.status_code)] += 1
                continue
            if response.status_code == 429:  # the sender's write budget: wait as told
                self.retries["429"] += 1
                time.sleep(float(response.headers.get("retry-after", "1")))
                continue
            if response.status_code != 200:
                self.errors.append(f"{body}: {response.status_code} {response.text}")
                return
            self.done[body["idempotency_key"]] = response.json()["transaction_id"]
            self.served_by[_last_upstream(response.headers.get("x-upstream", "?"))] += 1
            return
        self.errors.append(f"{body}: no answer in 60 s")


def _send_in_page(member: Member, note: str, amount: int = 2, to: str = "erin") -> None:
    """Through the page's own socket: Profile tab, Send points, the form, Send."""
    page = member.page
    page.locator("#tab-profile").click()
    page.locator("#to-send").click(timeout=SCREEN_TIMEOUT_MS)
    page.locator("#send-to").fill(f"@{to}", timeout=SCREEN_TIMEOUT_MS)
    page.locator("#send-amount").fill(str(amount))
    page.locator("#send-note").fill(note)
    page.locator("#send").click()
    page.locator("#notice").wait_for(timeout=SCREEN_TIMEOUT_MS)
    assert f"Sent {amount} points to" in page.locator("#notice").inner_text()


# --------------------------------------------------------------------------------------
# The tests.
# --------------------------------------------------------------------------------------


def test_requests_spread_over_both_instances(env: Env) -> None:
    cluster = env.cluster
    served = Counter(
        _last_upstream(httpx.get(f"{cluster.url}/health", timeout=10).headers["x-upstream"])
        for _ in range(20)
    )
    assert set(served) == {cluster.upstream(0), cluster.upstream(1)}, served
    body = httpx.get(f"{cluster.url}/health", timeout=10).json()
    assert body["database"]["backend"] == "postgresql"
    assert body["redis"]["configured"] and body["redis"]["ok"]
    # The page and its hashed build files come through nginx from either instance.
    page = httpx.get(f"{cluster.url}/", timeout=10)
    assert page.status_code == 200
    asset = re.search(r'/assets/[^"]+\.js', page.text)
    assert asset is not None, page.text[:300]
    js = httpx.get(f"{cluster.url}{asset.group(0)}", timeout=10)
    assert js.status_code == 200
    assert "immutable" in js.headers.get("cache-control", "")


def test_member_home_through_nginx(env: Env, chromium: Any) -> None:
    """The dev launch, the page and its socket, all through nginx, in real Chromium."""
    cluster = env.cluster
    alice = _open_member(chromium, cluster, "alice")
    try:
        profile = find_by_username(env.db, "alice")
        assert profile is not None
        assert alice.page.locator("#member-name").inner_text() == profile.name
        assert alice.shown_balance() == profile.balance
        alice.page.locator("#latest .feed-row").first.wait_for(timeout=SCREEN_TIMEOUT_MS)
        assert alice.socket_on in {cluster.upstream(0), cluster.upstream(1)}
    finally:
        alice.page.context.close()


def test_writes_on_either_instance_are_pushed_to_a_member_on_the_other(
    env: Env, chromium: Any
) -> None:
    """Live pushes cross instances: a write made on each instance in turn reaches a screen
    whose socket is on one of them, so one of the two came from the other instance."""
    cluster = env.cluster
    bob = _open_member(chromium, cluster, "bob")
    try:
        bob.page.goto(f"{cluster.url}/feed")
        bob.page.locator("#feed-list .feed-row").first.wait_for(timeout=SCREEN_TIMEOUT_MS)
        holder = bob.socket_on
        sender = _rest_senders(env.db)[0]
        for index in range(cluster.instances):
            note = f"via {index} {uuid.uuid4().hex[:6]}"
            response = httpx.post(
                f"http://127.0.0.1:{cluster.servers[index].port}/api/transfers",
                json={"to": "@bob", "amount": 1, "note": note, "idempotency_key": uuid.uuid4().hex},
                headers=_auth(sender),
                timeout=30,
            )
            assert response.status_code == 200, response.text
            bob.page.wait_for_function(
                "(n) => document.querySelector('#feed-list .feed-row .feed-detail')"
                "?.innerText === n",
                arg=note,
                timeout=SCREEN_TIMEOUT_MS,
            )
        assert bob.socket_on == holder, "the socket moved: the test proves nothing"
    finally:
        bob.page.context.close()


def test_killed_instance_members_reconnect_to_the_other_and_carry_on(
    env: Env, chromium: Any
) -> None:
    cluster, db = env.cluster, env.db
    both = {cluster.upstream(0), cluster.upstream(1)}
    members = [_open_member(chromium, cluster, name) for name in BROWSER_MEMBERS]
    load: TransferLoad | None = None
    try:
        # (a) The sockets are spread: nginx picks the instance with fewer connections.
        on = {m.username: m.socket_on for m in members}
        assert set(on.values()) == both, f"sockets not spread over both instances: {on}"

        # Members send over REST through nginx all along.
        senders = _rest_senders(db)
        load = TransferLoad(cluster.url, senders, list(BROWSER_MEMBERS)).start()
        until(lambda: len(load.done) >= 10 or load.errors, "the first transfers", 60)
        assert not load.errors, load.errors

        # A transfer whose instance is about to die: the one that answers it is killed.
        erin = find_by_username(db, "erin")
        assert erin is not None
        erin_user = {"id": erin.id, "first_name": "Erin", "username": "erin"}
        key = f"before-kill-{uuid.uuid4().hex}"
        transfer = {"to": "@bob", "amount": 3, "note": "across the kill", "idempotency_key": key}
        first = httpx.post(
            f"{cluster.url}/api/transfers", json=transfer, headers=_auth(erin_user), timeout=15
        )
        assert first.status_code == 200, first.text
        victim = cluster.index_of(_last_upstream(first.headers["x-upstream"]))
        survivor = cluster.upstream(1 - victim)
        moved = [m for m in members if m.socket_on == cluster.upstream(victim)]
        stayed = [m for m in members if m not in moved]
        assert moved and stayed, on
        erin_after_first = find_by_username(db, "erin").balance
        done_before_kill = len(load.done)

        cluster.kill(victim)

        # (c) The retry (a client that never saw the answer) reaches the survivor and is
        # answered with the first result: charged once.
        again = httpx.post(
            f"{cluster.url}/api/transfers", json=transfer, headers=_auth(erin_user), timeout=15
        )
        assert again.status_code == 200, again.text
        assert _last_upstream(again.headers["x-upstream"]) == survivor
        assert again.json()["transaction_id"] == first.json()["transaction_id"]
        assert _count_key(db, key) == 1
        assert find_by_username(db, "erin").balance == erin_after_first

        # The killed instance's members reconnect through nginx, to the survivor.
        for member in moved:
            until(
                lambda m=member: len(m.handshakes) > 1 and m.socket_on == survivor,
                f"@{member.username}'s socket back on {survivor}",
                RECONNECT_TIMEOUT_S,
                member.page,
            )
        # The transfers carried on, all through the survivor now.
        until(
            lambda: len(load.done) >= done_before_kill + 10 or load.errors,
            "transfers after the kill",
            60,
        )
        served_before_stop = Counter(load.served_by)
        load.finish()
        assert not load.errors, load.errors
        assert served_before_stop[survivor] > 0
        for load_key in load.done:
            assert _count_key(db, load_key) == 1, load_key
        with db.read() as s:
            charged = s.execute(
                text("SELECT COUNT(*) FROM transactions WHERE idempotency_key LIKE 'load-%'")
            ).scalar_one()
        assert charged == len(load.done)

        # Every member carries on in the same page: a new transfer over the socket, and the
        # balance on screen is the database's.
        for member in members:
            note = f"after the kill {member.username} {uuid.uuid4().hex[:6]}"
            _send_in_page(member, note)
            profile = find_by_username(db, member.username)
            assert profile is not None
            with db.read() as s:
                sent = s.execute(
                    text("SELECT COUNT(*) FROM transactions WHERE note = :n AND actor_id = :a"),
                    {"n": note, "a": profile.id},
                ).scalar_one()
            assert sent == 1, (member.username, sent)
            member.page.locator("#tab-home").click()
            member.page.wait_for_function(
                "(b) => parseInt((document.querySelector('#member-balance')?.innerText ?? '')"
                ".replace(/\\D/g, '')) === b",
                arg=profile.balance,
                timeout=SCREEN_TIMEOUT_MS,
            )
            assert member.socket_on == survivor or member in stayed

        report = books(db)
        assert books_balanced(report), f"books do not balance: {report}"

        # The survivor served the rebinds through its state slots (state/lock_slots.py).
        survivor_port = cluster.instance_ports[1 - victim]
        metrics = httpx.get(f"http://127.0.0.1:{survivor_port}/metrics", timeout=10).text
        waited = re.search(r"^state_slot_wait_seconds_count ([0-9.e+]+)$", metrics, re.M)
        assert waited and float(waited.group(1)) > 0, "no state modification went through the slots"

        # nginx logged the dropped sockets (a socket's line is written when it closes).
        dropped = [
            r
            for r in cluster.nginx.access_records()
            if r.uri.startswith("/_event") and r.upstream == cluster.upstream(victim)
        ]
        assert len(dropped) >= len(moved), dropped

        # Started again, the instance gets its share once nginx's fail_timeout has passed.
        cluster.start_instance(victim)
        until(
            lambda: (
                _last_upstream(httpx.get(f"{cluster.url}/health", timeout=10).headers["x-upstream"])
                == cluster.upstream(victim)
            ),
            "the restarted instance to serve again",
            60,
        )
    finally:
        if load is not None:
            load.finish()
        for member in members:
            member.page.context.close()
        if not cluster.servers[0].running or not cluster.servers[1].running:
            for i, server in enumerate(cluster.servers):
                if not server.running:
                    cluster.start_instance(i)


def test_instance_stopped_gracefully_hands_its_members_over(env: Env, chromium: Any) -> None:
    """SIGTERM (a deploy, a scale-in): the instance closes its sockets and the tabs carry on
    on the other one. Whether a tab keeps its Reflex token (and so its tab state) is a race
    in Reflex 0.10.1: the other instance hands out a new token while the stopping one has not
    yet deleted the tab's socket record from Redis (after a SIGKILL the record stays, so the
    token is always new). Either way the page binds again from its initData."""
    cluster = env.cluster
    members = [_open_member(chromium, cluster, name) for name in ("erin", "alice")]
    stopped: int | None = None
    try:
        on = {m.username: m.socket_on for m in members}
        assert len(set(on.values())) == 2, f"sockets not spread over both instances: {on}"
        member, other = members
        stopped = cluster.index_of(member.socket_on)
        cluster.servers[stopped].stop()
        until(
            lambda: (
                len(member.handshakes) > 1 and member.socket_on == cluster.upstream(1 - stopped)
            ),
            "the socket on the other instance",
            RECONNECT_TIMEOUT_S,
            member.page,
        )
        _send_in_page(member, f"after a graceful stop {uuid.uuid4().hex[:6]}", 1, to="alice")
        _send_in_page(other, f"beside a graceful stop {uuid.uuid4().hex[:6]}", 1, to="erin")
        assert len(other.handshakes) == 1  # the other instance's tab never noticed
    finally:
        for member in members:
            member.page.context.close()
        if stopped is not None and not cluster.servers[stopped].running:
            cluster.start_instance(stopped)
