"""bench/network.py and bench/link_proxy.py: the profiles' parsing, the link's pacing."""

from __future__ import annotations

import os
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bench.link_proxy import Link, LinkProxy, links
from bench.network import PROFILES, Profile, emulate, parse_profiles
from miniapp_testing.ports import free_port


def test_profiles_come_in_the_order_given() -> None:
    assert [p.name for p in parse_profiles("loopback, 4g,SLOW4G")] == ["loopback", "4g", "slow4g"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3g", "unknown network profile 3g"),
        ("loopback,,4g", "empty profile name"),
        ("", "empty profile name"),
        ("4g,4g", "named twice"),
    ],
)
def test_bad_profile_lists_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_profiles(text)


def test_the_rtt_is_split_between_the_directions_and_rates_are_bytes_per_second() -> None:
    up, down = links(PROFILES["slow4g"])
    assert (up.delay_s, up.rate) == (0.075, 93_750)  # 750 kbit/s
    assert (down.delay_s, down.rate) == (0.075, 200_000)  # 1.6 Mbit/s
    plain_up, plain_down = links(PROFILES["loopback"])
    assert plain_up == plain_down == Link(0.0, None)


def test_a_link_paces_bytes_one_after_another_then_adds_its_delay() -> None:
    link = Link(delay_s=0.075, rate=200_000)
    assert link.schedule(10.0, 20_000) == pytest.approx(10.0 + 0.1 + 0.075)
    # handed over while the first is still leaving: it waits its turn
    assert link.schedule(10.05, 20_000) == pytest.approx(10.0 + 0.2 + 0.075)
    # after the link went idle: only its own time on the wire
    assert link.schedule(20.0, 2_000) == pytest.approx(20.0 + 0.01 + 0.075)
    # an end-of-stream marker (0 bytes) keeps its place behind what was queued
    link.schedule(30.0, 200_000)
    assert link.schedule(30.0, 0) == pytest.approx(31.075)


def test_an_unpaced_link_only_delays() -> None:
    link = Link(delay_s=0.02, rate=None)
    assert link.schedule(5.0, 10**9) == pytest.approx(5.02)
    assert link.free_at == 5.0


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any] | None]] = []

    def send(self, method: str, params: dict[str, Any] | None = None) -> None:
        self.sent.append((method, params))


def test_only_a_slowed_cpu_is_sent_over_devtools() -> None:
    quiet = Recorder()
    emulate(quiet, PROFILES["loopback"])
    assert quiet.sent == []

    busy = Recorder()
    emulate(busy, Profile("x", rtt_ms=40, down_kbit_s=8, cpu_slowdown=2))
    assert busy.sent == [("Emulation.setCPUThrottlingRate", {"rate": 2})]


def test_targets_are_judged_on_their_own_profile_and_bytes_on_the_first() -> None:
    from bench.frontend import verdicts

    def figures(cold: float, warm: float, resume: float | None, wire: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "home cold": {"painted": {"p50": cold}},
            "home warm": {"painted": {"p50": warm}},
            "bytes": {"home cold wire": {"p50": wire}},
        }
        if resume is not None:
            out["resume"] = {"fresh": {"p95": resume}}
        return out

    judged = verdicts(
        {
            "loopback": figures(600, 100, 50, 100 * 1024),
            "slow4g": figures(2400, 1300, None, 400 * 1024),
        }
    )
    assert judged == [
        ("slow4g", "Home cold, first data p50 (ms)", 2400, 2500, True),
        ("slow4g", "Home warm, first data p50 (ms)", 1300, 1200, False),
        ("slow4g", "resume to fresh data p95 (ms)", None, 500, None),
        ("loopback", "Home cold, first data p50 (ms)", 600, 500, False),
        ("loopback", "first load, Home cold (KB on the wire)", 100, 150, True),
    ]
    assert [v[0] for v in verdicts({"4g": figures(1, 1, 1, 1)})] == ["4g"]


class Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(65536):
            self.request.sendall(data)


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Echo)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def through(proxy: LinkProxy, payload: bytes) -> tuple[bytes, float]:
    """`payload` sent through `proxy` to the echo server and read back; seconds it took
    from before the connect."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=30) as conn:
        conn.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = conn.recv(65536)
            if not chunk:
                break
            got += chunk
    return got, time.perf_counter() - started


def test_the_relay_adds_a_round_trip_per_connection_and_per_exchange(echo_port: int) -> None:
    proxy = LinkProxy(target=echo_port, port=free_port())
    proxy.start()
    try:
        got, plain_s = through(proxy, b"ping")
        assert got == b"ping"
        proxy.use(Profile("slow", rtt_ms=200))
        payload = os.urandom(100_000)
        got, slow_s = through(proxy, payload)
        assert got == payload  # whole and in order
        assert slow_s >= 0.4  # the handshake's RTT, then there and back
        proxy.use(Profile("narrow", down_kbit_s=800))  # 100 kB/s back, up unlimited
        got, narrow_s = through(proxy, os.urandom(50_000))
        assert len(got) == 50_000
        assert narrow_s >= 0.5
    finally:
        proxy.stop()
    assert plain_s < slow_s
