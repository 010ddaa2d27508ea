"""The simulated phones of bench/load.py: one light socket.io client per member.

No socket.io library: each member is one asyncio Protocol on a raw TCP connection that does
the WebSocket upgrade and framing by hand (RFC 6455, client frames masked) and speaks
engine.io v4 / socket.io v5 text packets the way the page's socket.io-client does:

    server  0{"sid":..,"pingInterval":25000,..}        engine.io OPEN
    client  40/_event,{"event":{hydrate},"state_schema":".."}   socket.io CONNECT + auth
    server  40/_event,{"sid":..}                       CONNECT ack
    client  42/_event,["event",{"name":..,"payload":{..},"router_data":{..}}]
    server  42/_event,["event",{"delta":{state:{var:value}},"events":[..]}]
    server  2   client  3                              engine.io ping / pong
    client  41/_event,                                 DISCONNECT

Received frames are never JSON-decoded on the hot path: what a member needs (its status,
balance, the notes in feed rows, the keys of its forms, the end of an event) is read from
the raw bytes with substring tests and small regexes, so 2,000 members fit in a few
generator processes beside the app on a 2-core machine. One worker process runs
`run_worker` for its share of the members and hands back raw, timestamped observations
(time.monotonic(), which is one clock for every process on Linux); bench/load.py merges them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import re
import time
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# -- what the page sends, as compiled into its bundle (bench/load.py reads it) ------------

ROOT_STATE = "reflex___state____state"


@dataclass
class Wire:
    """Names and shapes of the page's frames for one build of the app."""

    state_name: str = ROOT_STATE
    hashes: list[str] | None = None  # initialStateHashes: sent on a tab's first hydrate
    state_schema: str | None = None
    subprotocol: str = ""  # Sec-WebSocket-Protocol: the Reflex version the page was built with
    storage: dict[str, str] = field(default_factory=dict)  # sessionStorage name -> state key
    # The page's LiveTicker while the Mini App is active: LiveState.tick every 2 s (the tick
    # protocol), or the push protocol's slow safety net (SessionState.keep_live, 60 s).
    periodic: str = ""  # a key of EVENTS, or "" for none
    periodic_ms: int = 2000
    # The send form's inputs are state: typing sends set_to, set_amount and set_note before
    # the send (the page before components/form_draft.py). Without them, send carries the
    # values.
    form_inputs: bool = False

    @property
    def tick(self) -> bool:
        return self.periodic == "tick"

    def event(self, path: str) -> str:
        return f"{self.state_name}.{path}"

    @property
    def launch_key(self) -> str:
        return self.storage.get(
            "tg_launch", f"{self.state_name}.state___session____session_state.launch_rx_state_"
        )


S_SESSION = "state___session____session_state"
S_LIFE = "state___lifecycle____lifecycle_state"
S_SEND = "state___profile____send_state"
S_SEND_DELTA = f'{S_SEND}":{{'.encode()  # the send form's part of a delta
EVENTS = {
    "hydrate": "hydrate_and_load",
    "update_vars": "reflex___state____update_vars_internal_state.update_vars_internal",
    "on_load": "reflex___state____on_load_internal_state.on_load_internal",
    "ready": f"{S_LIFE}.ready",
    "viewport": f"{S_LIFE}.viewport_changed",
    "activated": f"{S_LIFE}.activated",
    "deactivated": f"{S_LIFE}.deactivated",
    "tick": "state___live____live_state.tick",
    "keep_live": f"{S_SESSION}.keep_live",
    "bind": f"{S_SESSION}.bind",
    "set_to": f"{S_SEND}.set_to",
    "set_amount": f"{S_SEND}.set_amount",
    "set_note": f"{S_SEND}.set_note",
    "send": f"{S_SEND}.send",
    "buy": "state___market____market_state.buy",
    "claim": "state___home____home_state.claim",
}
SCREENS = {"home": "/", "feed": "/feed", "leaderboard": "/leaderboard", "market": "/market"}
# What the bridge reports on ready (Bot API 8.0, android, a 390x844 phone).
READY_INFO = {
    "version": "8.0",
    "platform": "android",
    "in_telegram": True,
    "color_scheme": "light",
    "is_active": True,
    "viewport": {"height": 844, "stable_height": 844, "is_expanded": False},
    "safe_area": {"top": 24, "bottom": 16, "left": 0, "right": 0},
    "content_safe_area": {"top": 48, "bottom": 0, "left": 0, "right": 0},
}
USER_AGENT = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36 Telegram-Android/11.0.0"
)

# -- reading deltas from raw bytes -------------------------------------------------------

NOTE_PREFIX = "ltn"
SEEN_RUN = 15  # rows already seen in a row before a list is taken as known
RE_NOTE = re.compile(rb'"detail":"(ltn[0-9x]+)"')
RE_BALANCE = re.compile(rb'"balance_rx_state_":(-?\d+)')
RE_STATUS = re.compile(rb'"status_rx_state_":"([a-z]*)"')
RE_SEND_KEY = re.compile(rb'"send_key_rx_state_":"([^"]+)"')
RE_BUY_KEY = re.compile(rb'"buy_key_rx_state_":"([^"]+)"')
RE_ERROR = re.compile(rb'"error_rx_state_":"((?:[^"\\]|\\.)+)"')
RE_RESUMED = re.compile(rb'"resumed_rx_state_":"([^"]*)"')
RE_REDIRECT = re.compile(rb'"name":"_redirect","payload":\{"path":"([^"]+)"')
RE_DRAFT = re.compile(rb'"(to|amount|note)_rx_state_":"((?:[^"\\]|\\.)*)"')
RE_NEW_TOKEN = re.compile(rb'^42/_event,\["new_token","([^"]+)"')
RE_UPSTREAM = re.compile(r"^x-upstream:\s*(.+)$", re.I | re.M)
HYDRATED = b'"is_hydrated_rx_state_":true'
ALREADY_CLAIMED = "Today's reward is claimed"  # app/domain/rewards.py AlreadyClaimed
CONNECT_TIMEOUT_S = 20.0  # socket.io-client's `timeout` for opening the transport
TOAST_MARKS = (b"An error occurred", b"backend_error")


# -- WebSocket over an asyncio Protocol ----------------------------------------------------


class Socket(asyncio.Protocol):
    """One RFC 6455 client connection: upgrade, masked text frames out, frames in."""

    def __init__(self, member: Member, request: bytes) -> None:
        self.member = member
        self.request = request
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.upgraded = False
        self.fragments: list[bytes] = []
        self.inflate: Any = None
        self.compressed = False
        self.closed_by_us = False
        self.upstream = ""  # the instance behind nginx (X-Upstream of the handshake), if any
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if not self.upgraded:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).decode("latin-1")
            del self.buf[: end + 4]
            status = head.split("\r\n", 1)[0]
            if " 101 " not in status + " ":
                self._fail(f"upgrade refused: {status}")
                return
            if m := RE_UPSTREAM.search(head):
                # nginx lists every instance it tried ("a, b"): the last one answered.
                self.upstream = m.group(1).split(",")[-1].strip()
            if "permessage-deflate" in head.lower():
                self.inflate = zlib.decompressobj(-15)
            self.upgraded = True
            if not self.opened.done():
                self.opened.set_result(None)
        self._frames()

    def _frames(self) -> None:
        buf = self.buf
        while len(buf) >= 2:
            b0, b1 = buf[0], buf[1]
            length, start = b1 & 0x7F, 2
            if length == 126:
                if len(buf) < 4:
                    return
                length, start = int.from_bytes(buf[2:4], "big"), 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length, start = int.from_bytes(buf[2:10], "big"), 10
            if b1 & 0x80:
                start += 4  # a masked server frame is a protocol error; skip the key
            if len(buf) < start + length:
                return
            payload = bytes(buf[start : start + length])
            del buf[: start + length]
            opcode = b0 & 0x0F
            if opcode in (0, 1, 2):
                if opcode:  # the first frame of a message says whether it is compressed
                    self.compressed = bool(b0 & 0x40)
                if not b0 & 0x80:
                    self.fragments.append(payload)
                    continue
                if self.fragments:
                    payload = b"".join([*self.fragments, payload])
                    self.fragments = []
                if self.compressed and self.inflate is not None:
                    payload = self.inflate.decompress(payload + b"\x00\x00\xff\xff")
                self.member.on_packet(payload)
            elif opcode == 8:
                self._send_frame(0x8, payload[:2])
                if self.transport is not None:
                    self.transport.close()
            elif opcode == 9:
                self._send_frame(0xA, payload)

    def send_text(self, text: str | bytes) -> int:
        data = text.encode() if isinstance(text, str) else text
        self._send_frame(0x1, data)
        return len(data)

    def _send_frame(self, opcode: int, data: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        n = len(data)
        if n < 126:
            head = bytes((0x80 | opcode, 0x80 | n))
        elif n < 65536:
            head = bytes((0x80 | opcode, 0xFE)) + n.to_bytes(2, "big")
        else:
            head = bytes((0x80 | opcode, 0xFF)) + n.to_bytes(8, "big")
        key = os.urandom(4)
        if n:
            mask = (key * (n // 4 + 1))[:n]
            data = (int.from_bytes(data, "big") ^ int.from_bytes(mask, "big")).to_bytes(n, "big")
        transport.write(head + key + data)

    def close(self) -> None:
        self.closed_by_us = True
        if self.transport is not None and not self.transport.is_closing():
            self._send_frame(0x8, (1000).to_bytes(2, "big"))
            self.transport.close()

    def _fail(self, reason: str) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(reason))
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(str(exc or "closed before upgrade")))
        self.member.on_closed(self, exc)


Emit = tuple[str, dict[str, Any] | None]  # an event's short name and payload


def _key_of(emit: Emit) -> str:
    payload = emit[1] or {}
    return str(payload.get("key", ""))


# -- one member --------------------------------------------------------------------------


@dataclass
class Pending:
    kind: str
    sent: float
    done: asyncio.Future[bool]
    match: bytes = b""  # the frame that ends it contains this
    dropped: bool = False  # its socket closed before the answer came
    ok: bool = False
    late: bool = False  # answered after event_timeout_s (a write, still waited for)
    error: str = ""  # a write's `error`, when it answered one


@dataclass
class Plan:
    """What every member of a worker shares: the app, the clock, the mix."""

    host: str
    port: int
    origin: str
    wire: Wire
    t0: float
    window_start: float
    window_end: float
    stop_at: float
    writes_per_writer_s: float
    write_mix: dict[str, float]
    recipients: list[tuple[int, str]]  # (member index, username) of members who stay active
    nav_every_s: float = 4.0
    resume_active_s: float = 6.0
    resume_minimized_s: float = 4.0
    event_timeout_s: float = 15.0
    hydrate_timeout_s: float = 30.0
    run_tag: str = "0"
    worker: int = 0


class Member:
    def __init__(self, spec: dict[str, Any], plan: Plan, rec: Recorder) -> None:
        self.spec = spec
        self.idx: int = spec["idx"]
        self.role: str = spec["role"]
        self.screen: str = spec["screen"]
        self.init_data: str = spec["init_data"]
        self.launch_hash: str = spec["launch_hash"]
        self.plan = plan
        self.wire = plan.wire
        self.rec = rec
        self.rng = random.Random(spec["idx"] * 7919 + 17)
        self.token = str(uuid.uuid4())
        self.sock: Socket | None = None
        self.path = SCREENS[self.screen]
        self.query: dict[str, str] = {}
        self.navigated = False  # after the first client-side navigation asPath loses the hash
        self.connected = False
        self.hydrated = False
        self.first_hydrate = True
        self.active = True
        self.status = ""
        self.balance: int | None = None
        self.pending: Pending | None = None
        self.tick_sent: float | None = None
        self.send_key = ""
        self.buy_key = ""
        self.claimed_today = False
        # The send form's sessionStorage (rx.SessionStorage vars): what the server's deltas
        # set, as the page's applyClientStorageDelta keeps it; sent with every hydrate and
        # update_vars_internal.
        self.drafts: dict[str, str] = {}
        self.queued: list[tuple[str, str]] = []  # events emitted while the socket was down
        self.unanswered = 0  # answers still due to events sent without measuring them
        self.market: list[tuple[int, int, int]] = []  # (id, price, stock)
        self.stopping = False
        self.disconnects = 0
        # The bridge's ready/viewport go once per page load (TelegramBridge.start()), not
        # again on a reconnect.
        self.ready_sent = False
        # Set while the member is bound with its screen's data; cleared when the socket drops.
        self.bound = asyncio.Event()
        self.upstream = ""  # the instance behind nginx that holds the socket, if known
        self.upstreams: list[str] = []  # one per socket that hydrated
        # One per socket that dropped after it had hydrated: closed_at, the instance it was
        # on, bound_at (hydrated again; None: never), attempts, new_token, upstream_after.
        self.drops: list[dict[str, Any]] = []
        self.reconnect_task: asyncio.Task[None] | None = None
        self.open_error = ""
        self.bound_at: float | None = None
        self.acked_at: float | None = None  # the socket.io CONNECT ack of the last socket
        self.watch_notes = self.role == "active" and self.screen in ("home", "feed")
        self.seen: dict[str, float] = {}
        self.balances: list[tuple[float, int]] = []
        self.hydrate_ms: float | None = None
        self.hydrated_at: float | None = None
        self.hydrate_error = ""

    # -- frames out ----------------------------------------------------------------------

    def router_data(self) -> dict[str, Any]:
        as_path = self.path if self.navigated else f"{self.path}#{self.launch_hash}"
        data: dict[str, Any] = {"pathname": self.path, "asPath": as_path}
        if self.query:
            data["query"] = dict(self.query)
        return data

    def storage_vars(self) -> dict[str, str]:
        out = {self.wire.launch_key: self.init_data}
        for name, value in self.drafts.items():
            key = self.wire.storage.get(name)
            if key:
                out[key] = value
        # The bridge keeps whether the Mini App is shown in sessionStorage (when the page
        # has that key), so a reconnect's hydrate carries it.
        if shown := self.wire.storage.get("tg_active"):
            out[shown] = "1" if self.active else "0"
        return out

    def emit(self, name: str, payload: dict[str, Any] | None = None) -> None:
        event: dict[str, Any] = {"name": self.wire.event(EVENTS[name])}
        if payload:
            event["payload"] = payload
        event["router_data"] = self.router_data()
        text = '42/_event,["event",' + json.dumps(event, separators=(",", ":")) + "]"
        if not self.connected or self.sock is None:
            # The page's event queue: nothing goes out while the socket is down (or its
            # namespace not yet connected); the queue drains once it is (state.js "connect").
            self.queued.append((name, text))
            return
        self._send_event(name, text)

    def _send_event(self, name: str, text: str) -> None:
        if self.sock is not None:
            self.rec.bytes_sent += self.sock.send_text(text)
            self.rec.frames_sent += 1
            self.rec.sent[name] += 1

    def connect_packet(self) -> str:
        payload: dict[str, Any] = {"vars": self.storage_vars()}
        if self.first_hydrate and self.wire.hashes is not None:
            payload["hashes"] = self.wire.hashes
        auth: dict[str, Any] = {
            "event": {
                "name": self.wire.event(EVENTS["hydrate"]),
                "payload": payload,
                "router_data": self.router_data(),
            }
        }
        if self.wire.state_schema is not None:
            auth["state_schema"] = self.wire.state_schema
        return "40/_event," + json.dumps(auth, separators=(",", ":"))

    def request(self) -> bytes:
        key = base64.b64encode(os.urandom(16)).decode()
        host = f"localhost:{self.plan.port}"
        lines = [
            f"GET /_event/?token={self.token}&EIO=4&transport=websocket HTTP/1.1",
            f"Host: {host}",
            "Connection: Upgrade",
            "Pragma: no-cache",
            "Cache-Control: no-cache",
            f"User-Agent: {USER_AGENT}",
            "Upgrade: websocket",
            f"Origin: {self.plan.origin}",
            "Sec-WebSocket-Version: 13",
            "Accept-Encoding: gzip, deflate, br, zstd",
            "Accept-Language: en-US,en;q=0.9",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
        ]
        if self.wire.subprotocol:
            lines.append(f"Sec-WebSocket-Protocol: {self.wire.subprotocol}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    # -- frames in -----------------------------------------------------------------------

    def on_packet(self, p: bytes) -> None:
        rec = self.rec
        rec.frames_received += 1
        rec.bytes_received += len(p)
        if p == b"2":
            if self.sock is not None:
                self.sock.send_text(b"3")
            return
        if p.startswith(b'42/_event,["event",'):
            self.on_update(p)
        elif p.startswith(b"0{"):
            if self.sock is not None:
                rec.bytes_sent += self.sock.send_text(self.connect_packet())
        elif p.startswith(b"40/_event,"):
            self.connected = True
            self.acked_at = time.monotonic()
            if not self.ready_sent:
                # What the bridge sends as soon as the socket is up (TelegramBridge.start(),
                # once per page load: a reconnect sends only the hydrate).
                self.ready_sent = True
                self.emit("ready", {"info": READY_INFO})
                self.emit("viewport", {"viewport": {**READY_INFO["viewport"], "is_expanded": True}})
            queued, self.queued = self.queued, []
            for name, text in queued:
                self._send_event(name, text)
        elif p.startswith(b'42/_event,["new_token"'):
            # The token was linked to a socket elsewhere (a killed instance never removed its
            # record): the server made a new one, the page keeps it in sessionStorage and
            # reconnects with it from then on. Its tab state is new: it binds from initData.
            if m := RE_NEW_TOKEN.search(p):
                self.token = m.group(1).decode()
                rec.new_tokens += 1
                if self.reconnect_task is not None and self.drops:
                    self.drops[-1]["new_token"] = True
        elif p.startswith(b"44/_event,"):
            rec.error("connect_error")
            self._finish_hydrate(False, "connect refused: " + p[10:200].decode(errors="replace"))
        elif p.startswith(b'42/_event,["state_mismatch"'):
            rec.error("state_mismatch")
        elif p.startswith(b"41/_event,"):
            rec.error("server_disconnect")

    def on_update(self, p: bytes) -> None:
        now = time.monotonic()
        rec = self.rec
        if b'"status_rx_state_"' in p and (m := RE_STATUS.search(p)):
            self.status = m.group(1).decode()
            if self.status in ("rejected", "outside") and not self.hydrated:
                self._finish_hydrate(False, f"status {self.status}")
        if b'"balance_rx_state_"' in p and (m := RE_BALANCE.search(p)):
            balance = int(m.group(1))
            if balance != self.balance:
                self.balance = balance
                if self.role == "active":
                    self.balances.append((now, balance))
        if self.watch_notes and NOTE_PREFIX.encode() in p:
            marker = b'"latest_rx_state_"' if self.screen == "home" else b'"rows_rx_state_"'
            if marker in p:
                known = 0
                for m in RE_NOTE.finditer(p):
                    note = m.group(1).decode()
                    if note not in self.seen:
                        self.seen[note] = now
                        known = 0
                    else:
                        # Newest first: past a run of rows seen before, the rest were seen
                        # too (a run, not the first: a write that committed late lands
                        # below rows committed before it).
                        known += 1
                        if known >= SEEN_RUN:
                            break
        if self.role == "writer" and S_SEND_DELTA in p:
            self._read_drafts(p)
        if b"_key_rx_state_" in p:
            if m := RE_SEND_KEY.search(p):
                self.send_key = m.group(1).decode()
            if m := RE_BUY_KEY.search(p):
                self.buy_key = m.group(1).decode()
        if b'"claimed_today_rx_state_":true' in p:
            self.claimed_today = True
        if b'"items_rx_state_":[' in p:
            self._read_market(p)
        if any(mark in p for mark in TOAST_MARKS):
            rec.error("error_toast")
            rec.error_samples.append(p[:600].decode(errors="replace"))
        if b"_call_script" in p and b"WebApp.initData" in p:
            # SessionState.start found no initData in the hydrate and asks the page.
            rec.error("bind_fallback")
            self.emit("bind", {"init_data": self.init_data})
        if b'"_redirect"' in p and (m := RE_REDIRECT.search(p)):
            rec.redirects += 1
            path = m.group(1).decode()
            asyncio.get_running_loop().create_task(self.navigate_path(path, measure=False))
        answered = False
        if not self.hydrated:
            if self.status == "ok" and HYDRATED in p:
                self._finish_hydrate(True)
            return
        pending = self.pending
        if pending is not None and pending.match in p:
            self.pending = None
            ms = (now - pending.sent) * 1000
            rec.events.append((pending.kind, pending.sent, ms))
            ok = True
            if pending.kind in ("send", "buy", "claim"):
                ok = b'"notice_rx_state_":"' in p and b'"notice_rx_state_":""' not in p
                if not ok and (m := RE_ERROR.search(p)):
                    pending.error = m.group(1).decode(errors="replace")[:80]
                    rec.domain_errors[pending.error] += 1
            if not pending.done.done():
                pending.done.set_result(ok)
            answered = True
        elif self.tick_sent is not None and pending is None:
            rec.events.append((self.wire.periodic, self.tick_sent, (now - self.tick_sent) * 1000))
            self.tick_sent = None
            answered = True
        if not answered and pending is None:
            if self.unanswered > 0:
                self.unanswered -= 1  # the answer to an unmeasured event (a form input)
            else:
                rec.unsolicited += 1  # a delta no event of this member asked for: a push
                if self.role == "minimized":
                    rec.minimized_pushes.append(now)

    def _read_drafts(self, p: bytes) -> None:
        start = p.find(S_SEND_DELTA) + len(S_SEND_DELTA)
        block = p[start : p.find(b"}", start)]
        for m in RE_DRAFT.finditer(block):
            value = json.loads(b'"' + m.group(2) + b'"')
            self.drafts[f"send_draft_{m.group(1).decode()}"] = value

    def _read_market(self, p: bytes) -> None:
        start = p.find(b'"items_rx_state_":[') + len(b'"items_rx_state_":')
        depth, end = 0, start
        for end in range(start, len(p)):
            c = p[end]
            if c == 0x5B:
                depth += 1
            elif c == 0x5D:
                depth -= 1
                if depth == 0:
                    break
        try:
            items = json.loads(p[start : end + 1])
        except ValueError:
            return
        self.market = [
            (int(i["id"]), int(re.sub(r"\D", "", str(i["price"])) or 0), int(i["stock"]))
            for i in items
        ]

    def on_closed(self, sock: Socket, exc: Exception | None) -> None:
        if sock is not self.sock:
            return
        was_bound = self.hydrated
        self.connected = False
        self.hydrated = False
        self.bound.clear()
        if not sock.closed_by_us and not self.stopping:
            now = time.monotonic()
            if self.reconnect_task is None:  # a failed reconnect attempt is not a new drop
                self.disconnects += 1
                self.rec.disconnects += 1
                self.rec.disconnect_times.append(now)
            if not was_bound:
                self._finish_hydrate(False, f"closed: {exc}")
            elif self.reconnect_task is None:
                # socket.io-client's "disconnect" (transport close): the page reconnects at
                # once, with the token it has, and hydrates in full (state.js reconnect()).
                self.drops.append(
                    {
                        "closed_at": now,
                        "upstream": sock.upstream,
                        "acked_at": None,  # the CONNECT ack of the socket that bound again
                        "bound_at": None,
                        "attempts": 0,
                        "new_token": False,
                        "upstream_after": "",
                    }
                )
                self.reconnect_task = asyncio.get_running_loop().create_task(self._reconnect())
        if self.pending is not None and not self.pending.done.done():
            self.pending.dropped = True
            self.pending.done.set_result(False)

    async def _reconnect(self) -> None:
        """The page's reconnect: at once after a drop, then after every failed attempt
        (connect_error, or closed before the namespace connected) 200 ms x attempts (at
        most 2 s), for as long as the page is open."""
        drop = self.drops[-1]
        try:
            while not self.stopping and time.monotonic() < self.plan.stop_at:
                drop["attempts"] += 1
                if await self.open(reconnect=True):
                    drop["acked_at"] = self.acked_at
                    drop["bound_at"] = self.bound_at
                    drop["upstream_after"] = self.upstream
                    return
                await asyncio.sleep(0.2 * min(drop["attempts"], 10))
        finally:
            self.reconnect_task = None

    # -- actions -------------------------------------------------------------------------

    def _finish_hydrate(self, ok: bool, error: str = "") -> None:
        fut = getattr(self, "_hydrate_fut", None)
        if fut is not None and not fut.done():
            fut.set_result(ok)
        if not ok:
            self.open_error = self.open_error or error

    async def open(self, *, reconnect: bool = False) -> bool:
        """Open the socket and hydrate: connect + hydrate time, as measured for the page."""
        loop = asyncio.get_running_loop()
        self._hydrate_fut: asyncio.Future[bool] = loop.create_future()
        self.hydrated = False
        self.bound.clear()
        self.status = ""
        self.open_error = ""
        started = time.monotonic()
        sock = Socket(self, self.request())
        self.sock = sock
        # A first open that takes longer than hydrate_timeout_s is reported as failed. A
        # reconnecting page has no such limit: once the socket is up it waits for the hydrate's
        # answer as long as it takes (socket.io-client times out only the transport's opening,
        # 20 s); it gives up only when the run ends.
        wait_s = self.plan.hydrate_timeout_s
        if reconnect:
            wait_s = max(wait_s, self.plan.stop_at + self.plan.event_timeout_s - started)
        try:
            await asyncio.wait_for(
                loop.create_connection(lambda: sock, "127.0.0.1", self.plan.port),
                CONNECT_TIMEOUT_S,
            )
            await asyncio.wait_for(sock.opened, CONNECT_TIMEOUT_S)
            ok = await asyncio.wait_for(self._hydrate_fut, wait_s)
        except (OSError, TimeoutError, ConnectionError) as exc:
            self.open_error = self.open_error or f"{type(exc).__name__}: {exc}"
            ok = False
        if not ok:
            reason = self.open_error.split(":")[0][:60]
            if reconnect:
                self.rec.reconnect_failures[reason] += 1
            else:
                self.hydrate_error = self.open_error
                self.rec.hydrate_failures[reason] += 1
            sock.close()
            return False
        now = time.monotonic()
        self.hydrated = True
        self.bound_at = now
        self.upstream = sock.upstream
        self.upstreams.append(sock.upstream)
        self.first_hydrate = False
        ms = (now - started) * 1000
        if self.hydrate_ms is None:
            self.hydrate_ms, self.hydrated_at = ms, now
            self.rec.hydrates.append((started, ms))
        else:
            self.rec.rehydrates.append((started, ms))
        if self.balance is not None and self.role == "active":
            self.balances.append((now, self.balance))
        self.bound.set()
        return True

    async def wait_bound(self, timeout_s: float) -> bool:
        """Bound again after a drop (the page's queued events go out on connect)."""
        if self.hydrated:
            return True
        if self.reconnect_task is None:
            return False
        try:
            await asyncio.wait_for(self.bound.wait(), timeout_s)
        except TimeoutError:
            return False
        return self.hydrated

    async def _exchange(
        self, kind: str, match: bytes, emits: tuple[Emit, ...], *, late: bool = False
    ) -> Pending | None:
        """Send, then wait for the answer: the Pending (dropped or not), None on a timeout.

        With `late` (a write) an answer past the timeout is still waited for, until the run
        ends: the page's button stays busy (`sending`) until it comes, so the member makes no
        other write meanwhile (and a late answer is not taken for the next write's). The
        timeout is counted all the same; the Pending comes back with `late` set."""
        self.tick_sent = None  # a tick in flight can no longer be told from this answer
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        for name, payload in emits[:-1]:
            self.emit(name, payload)
        pending = Pending(kind, time.monotonic(), done, match)
        self.pending = pending
        self.emit(*emits[-1])
        try:
            pending.ok = await asyncio.wait_for(asyncio.shield(done), self.plan.event_timeout_s)
        except TimeoutError:
            self.rec.timeouts[kind] += 1
            self.rec.error_log.append((time.monotonic(), f"timeout:{kind}"))
            remaining = self.plan.stop_at - time.monotonic()
            if not late or remaining <= 0:
                done.cancel()
                if self.pending is pending:
                    self.pending = None
                return None
            try:
                pending.ok = await asyncio.wait_for(done, remaining)
            except TimeoutError:
                if self.pending is pending:
                    self.pending = None
                return None
            pending.late = True
        if self.pending is pending:  # dropped: no frame will end it now
            self.pending = None
        return pending

    async def call(self, kind: str, match: bytes, *emits: Emit, resend: bool = False) -> bool:
        """Send events and wait for the frame that answers the last one (contains `match`).

        While the socket is down and coming back, the page queues the event and sends it on
        connect: so does this. With `resend` (a write), an event whose socket closed before
        its answer is sent again once bound, with the same payload (its idempotency key), as
        the page's queued event would be."""
        tapped = time.monotonic()
        outcomes = self.rec.outcomes
        if not self.hydrated and not await self.wait_bound(self.plan.hydrate_timeout_s + 30):
            outcomes.append((kind, tapped, "not connected"))
            return False
        pending = await self._exchange(kind, match, emits, late=resend)
        if pending is None:
            outcomes.append((kind, tapped, "timeout"))
            return False
        if not pending.dropped:
            status = "ok" if pending.ok else "failed"
            outcomes.append((kind, tapped, f"late {status}" if pending.late else status))
            return pending.ok
        if not resend:
            outcomes.append((kind, tapped, "dropped"))
            return False
        self.rec.resent[kind] += 1
        self.rec.resent_keys.append(_key_of(emits[-1]))
        if not await self.wait_bound(self.plan.hydrate_timeout_s + 30):
            outcomes.append((kind, tapped, "lost"))
            return False
        again = await self._exchange(kind, match, emits[-1:], late=True)
        if again is None or again.dropped:
            outcomes.append((kind, tapped, "resent: timeout" if again is None else "lost"))
            return False
        ok = again.ok or (kind == "claim" and again.error.startswith(ALREADY_CLAIMED))
        outcomes.append((kind, tapped, "resent ok" if ok else "resent failed"))
        return ok

    async def navigate_path(self, path: str, *, measure: bool = True) -> bool:
        """A tap on a tab (client-side navigation): storage vars, then the route's on_load."""
        self.path = path
        self.query = {"item_id": path.rsplit("/", 1)[1]} if path.startswith("/market/") else {}
        self.navigated = True
        update = ("update_vars", {"vars": self.storage_vars()})
        if not measure:
            self.emit(*update)
            self.emit("on_load", None)
            return True
        return await self.call("nav", HYDRATED, update, ("on_load", None))

    def send_tick(self) -> None:
        if self.tick_sent is not None:
            self.rec.unanswered_ticks += 1  # nothing had changed: no delta came back
        # Timed only when nothing else is in flight, and only the tick: the push protocol's
        # keep_live answers nothing when the tab is followed, and a push would end it.
        measured = self.pending is None and self.wire.periodic == "tick"
        self.tick_sent = time.monotonic() if measured else None
        self.emit(self.wire.periodic, None)
        self.rec.ticks += 1
        if self.plan.window_start <= time.monotonic() <= self.plan.window_end:
            self.rec.ticks_in_window += 1

    async def deactivate(self) -> bool:
        self.active = False
        return await self.call("deactivated", b'"active_rx_state_":false', ("deactivated", None))

    async def activate(self) -> bool:
        self.active = True
        nonce = f"{int(time.time() * 1000)}-{self.rng.getrandbits(40):010x}"
        match = b'"resumed_rx_state_":"' + nonce.encode() + b'"'
        return await self.call("activated", match, ("activated", {"nonce": nonce}))

    async def transfer(self, to: str, note: str) -> tuple[float, bool]:
        if self.path != "/profile/send":
            await self.navigate_path("/profile/send")
        amount = "1"
        payload: dict[str, Any] = {"key": self.send_key}
        if self.wire.form_inputs:
            # What typing did (debounced inputs bound to state), then the tap on Send.
            self.emit("set_to", {"value": to})
            self.emit("set_amount", {"value": amount})
            self.emit("set_note", {"value": note})
            self.unanswered += 3
        else:
            payload.update(to=to, amount=amount, note=note)  # read from the inputs on the tap
        await asyncio.sleep(self.rng.uniform(0.1, 0.3))  # typing
        sent = time.monotonic()
        ok = await self.call("send", b'"sending_rx_state_":false', ("send", payload), resend=True)
        return sent, ok

    async def buy(self) -> bool:
        if not self.market:
            await self.navigate_path("/market")
        balance = self.balance or 0
        choices = [i for i in self.market if i[2] > 0 and 0 < i[1] <= balance]
        if not choices:
            return False
        item_id, _, _ = self.rng.choice(choices)
        await self.navigate_path(f"/market/{item_id}")
        payload = {"item_id": item_id, "key": self.buy_key}
        return await self.call("buy", b'"buying_rx_state_":false', ("buy", payload), resend=True)

    async def claim(self) -> bool:
        if self.path != "/":
            await self.navigate_path("/")
        if self.claimed_today:
            return False
        return await self.call("claim", b'"claiming_rx_state_":false', ("claim", None), resend=True)

    def close(self) -> None:
        self.stopping = True
        if self.reconnect_task is not None:
            self.reconnect_task.cancel()
        if self.sock is not None:
            if self.connected:
                self.sock.send_text(b"41/_event,")
            self.sock.close()


# -- what one worker records -----------------------------------------------------------


@dataclass
class Recorder:
    events: list[tuple[str, float, float]] = field(default_factory=list)  # kind, sent, ms
    hydrates: list[tuple[float, float]] = field(default_factory=list)  # started, ms
    rehydrates: list[tuple[float, float]] = field(default_factory=list)
    transfers: list[tuple[str, float, bool, int, int]] = field(default_factory=list)
    writes: Counter[str] = field(default_factory=Counter)
    write_failures: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    domain_errors: Counter[str] = field(default_factory=Counter)
    hydrate_failures: Counter[str] = field(default_factory=Counter)
    timeouts: Counter[str] = field(default_factory=Counter)
    sent: Counter[str] = field(default_factory=Counter)
    disconnects: int = 0
    disconnect_times: list[float] = field(default_factory=list)
    # (time, kind) of every error above and every timeout: split at a kill
    error_log: list[tuple[float, str]] = field(default_factory=list)
    # (kind, tapped, outcome) of every call: ok, failed (answered no), timeout, dropped (its
    # socket closed, not a write), not connected, lost (never bound again), resent ok/failed
    outcomes: list[tuple[str, float, str]] = field(default_factory=list)
    resent: Counter[str] = field(default_factory=Counter)
    resent_keys: list[str] = field(default_factory=list)
    reconnect_failures: Counter[str] = field(default_factory=Counter)
    new_tokens: int = 0
    minimized_pushes: list[float] = field(default_factory=list)  # deltas to minimized tabs
    redirects: int = 0
    ticks: int = 0
    unanswered_ticks: int = 0
    ticks_in_window: int = 0
    unsolicited: int = 0
    frames_received: int = 0
    bytes_received: int = 0
    frames_sent: int = 0
    bytes_sent: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] += 1
        self.error_log.append((time.monotonic(), kind))


# -- roles -----------------------------------------------------------------------------


async def sleep_until(t: float) -> None:
    delay = t - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def tick_loop(m: Member) -> None:
    """The page's LiveTicker: every periodic_ms while the Mini App is active."""
    interval = m.wire.periodic_ms / 1000
    await asyncio.sleep(m.rng.uniform(0, interval))
    while time.monotonic() < m.plan.stop_at and not m.stopping:
        if m.active and m.connected and m.hydrated:
            m.send_tick()
        await asyncio.sleep(interval)


async def writer_loop(m: Member, seq: list[int]) -> None:
    plan = m.plan
    rate = plan.writes_per_writer_s
    if rate <= 0:
        return
    kinds, weights = zip(*plan.write_mix.items(), strict=True)
    next_t = plan.window_start + m.rng.expovariate(rate)
    while True:
        await sleep_until(next_t)
        now = time.monotonic()
        if now >= plan.window_end or m.stopping:
            return
        kind = m.rng.choices(kinds, weights)[0]
        if kind == "claim" and m.claimed_today:
            kind = "transfer"
        elif kind == "transfer" and not m.claimed_today:
            # Every bench member is a newcomer whose welcome points cannot be sent yet
            # (app/domain/welcome.py); today's reward can.
            kind = "claim"
        if kind == "buy" and (m.balance or 0) < 40:
            kind = "transfer"
        if m.hydrated or m.reconnect_task is not None:  # down: the tap waits for the socket
            await write_once(m, kind, seq)
        next_t += m.rng.expovariate(rate)
        next_t = max(next_t, time.monotonic() - 2.0)  # a backlog is dropped, not burst


async def write_once(m: Member, kind: str, seq: list[int]) -> None:
    rec = m.rec
    if kind == "transfer":
        candidates = [r for r in m.plan.recipients if r[0] != m.idx]
        if not candidates or (m.balance or 0) < 1:
            rec.write_failures["transfer: no recipient or no points"] += 1
            return
        to_idx, username = m.rng.choice(candidates)
        seq[0] += 1
        note = f"{NOTE_PREFIX}{m.plan.run_tag}x{m.plan.worker}x{seq[0]}"
        sent, ok = await m.transfer(f"@{username}", note)
        rec.transfers.append((note, sent, ok, m.idx, to_idx))
    elif kind == "buy":
        ok = await m.buy()
    else:
        ok = await m.claim()
    rec.writes[kind] += 1
    if not ok:
        rec.write_failures[kind] += 1


async def run_member(m: Member) -> None:
    plan = m.plan
    await sleep_until(m.spec["connect_at"])
    if not await m.open():
        return
    ticker = asyncio.create_task(tick_loop(m)) if m.wire.periodic else None
    try:
        if m.role == "minimized":
            await m.deactivate()
        elif m.role == "navigating":
            while True:
                await asyncio.sleep(m.rng.uniform(0.5, 1.5) * plan.nav_every_s)
                if time.monotonic() >= plan.stop_at - 1:
                    break
                # A tap while the socket is down is queued and goes out once it is back.
                choices = [p for p in SCREENS.values() if p != m.path]
                await m.navigate_path(m.rng.choice(choices))
        elif m.role == "resuming":
            while time.monotonic() < plan.stop_at - 1:
                await asyncio.sleep(m.rng.uniform(0.5, 1.5) * plan.resume_active_s)
                if time.monotonic() >= plan.stop_at - 1:
                    break
                await m.deactivate()
                await asyncio.sleep(m.rng.uniform(0.5, 1.5) * plan.resume_minimized_s)
                await m.activate()
        elif m.role == "writer":
            await writer_loop(m, m.spec["seq"])
        # A dropped socket comes back by itself (Member._reconnect), as the page's does.
        await sleep_until(plan.stop_at - 0.5)
    finally:
        if ticker is not None:
            ticker.cancel()
        m.close()


async def _worker(plan: Plan, specs: list[dict[str, Any]]) -> dict[str, Any]:
    rec = Recorder()
    seq = [0]
    members = [Member({**spec, "seq": seq}, plan, rec) for spec in specs]
    cpu: dict[str, float] = {}

    def mark(name: str) -> None:
        cpu[name] = time.process_time()

    loop = asyncio.get_running_loop()
    now_loop, now_mono = loop.time(), time.monotonic()
    loop.call_at(now_loop + plan.window_start - now_mono, mark, "window_start")
    loop.call_at(now_loop + plan.window_end - now_mono, mark, "window_end")
    tasks = [asyncio.create_task(run_member(m)) for m in members]
    deadline = plan.stop_at + plan.event_timeout_s + 5 - time.monotonic()
    _, late = await asyncio.wait(tasks, timeout=max(deadline, 1))
    for task in late:
        task.cancel()
    for m in members:
        m.close()
    await asyncio.sleep(0.2)  # let close frames go out
    return {
        "members": [
            {
                "idx": m.idx,
                "role": m.role,
                "screen": m.screen,
                "hydrate_ms": m.hydrate_ms,
                "hydrated_at": m.hydrated_at,
                "hydrate_error": m.hydrate_error,
                "disconnects": m.disconnects,
                "seen": m.seen if m.watch_notes else {},
                "balances": m.balances,
                "token": m.token,
                "upstreams": m.upstreams,
                "drops": m.drops,
            }
            for m in members
        ],
        "rec": rec.__dict__,
        "cpu": cpu,
        "late_tasks": len(late),
    }


def run_worker(plan: Plan, specs: list[dict[str, Any]], out: Any) -> None:
    """multiprocessing entry: run these members, put the raw observations on `out`."""
    try:
        out.put(asyncio.run(_worker(plan, specs)))
    except BaseException as exc:  # the parent must hear about it, whatever it was
        out.put({"crash": f"{type(exc).__name__}: {exc}"})
        raise
