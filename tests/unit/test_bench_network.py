"""bench/network.py: the profiles' parsing and the DevTools parameters they become."""

from __future__ import annotations

from typing import Any

import pytest

from bench.network import PROFILES, Profile, emulate, parse_profiles


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


def test_slow4g_becomes_bytes_per_second_and_milliseconds() -> None:
    assert PROFILES["slow4g"].network_conditions() == {
        "offline": False,
        "latency": 150,
        "downloadThroughput": 200_000,  # 1.6 Mbit/s
        "uploadThroughput": 93_750,  # 750 kbit/s
    }


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any] | None]] = []

    def send(self, method: str, params: dict[str, Any] | None = None) -> None:
        self.sent.append((method, params))


def test_loopback_sends_nothing_and_a_profile_sends_network_and_cpu() -> None:
    quiet = Recorder()
    emulate(quiet, PROFILES["loopback"])
    assert quiet.sent == []

    busy = Recorder()
    emulate(busy, Profile("x", rtt_ms=40, down_kbit_s=8, cpu_slowdown=2))
    assert [m for m, _ in busy.sent] == [
        "Network.enable",
        "Network.emulateNetworkConditions",
        "Emulation.setCPUThrottlingRate",
    ]
    assert busy.sent[1][1] == {
        "offline": False,
        "latency": 40,
        "downloadThroughput": 1000,
        "uploadThroughput": -1,
    }
    assert busy.sent[2][1] == {"rate": 2}


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
