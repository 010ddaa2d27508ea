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
