"""Phone-like network and CPU profiles for the frontend bench.

The figures are Lighthouse's mobile ones as issue 15 gives them, taken literally: the RTT,
and bit rates with k = 1000. The network side is applied by bench/link_proxy.py (a relay
the app is served through: Chromium's own network emulation leaves WebSocket frames
unthrottled), the CPU side by the DevTools protocol (Emulation.setCPUThrottlingRate).
Chrome DevTools' presets multiply the RTT instead (Slow 4G: 150 ms x 3.75 = 562.5 ms per
request) and take 90 % of the bandwidth, to stand in for TCP/TLS set-up and slow start; the
relay pays one RTT per new connection and no TLS, so these profiles are the milder reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Profile:
    name: str
    rtt_ms: float = 0.0
    down_kbit_s: float | None = None  # None: not throttled
    up_kbit_s: float | None = None
    cpu_slowdown: float = 1.0

    @property
    def throttled(self) -> bool:
        return bool(self.rtt_ms or self.down_kbit_s or self.up_kbit_s)

    def describe(self) -> str:
        if not self.throttled and self.cpu_slowdown == 1:
            return f"{self.name}: no throttling"
        down = f"{self.down_kbit_s / 1000:g}" if self.down_kbit_s else "unlimited"
        up = f"{self.up_kbit_s / 1000:g}" if self.up_kbit_s else "unlimited"
        return (
            f"{self.name}: {self.rtt_ms:g} ms RTT, {down} Mbit/s down, {up} Mbit/s up, "
            f"CPU {self.cpu_slowdown:g}x slower"
        )


def bytes_per_s(kbit_s: float | None) -> float | None:
    """The bit rate as bytes per second; None (not throttled) stays None."""
    return kbit_s * 1000 / 8 if kbit_s else None


PROFILES: dict[str, Profile] = {
    "loopback": Profile("loopback"),
    # Lighthouse's mobile default ("Slow 4G" in DevTools): 150 ms, 1.6 Mbit/s, 750 kbit/s, 4x.
    "slow4g": Profile("slow4g", rtt_ms=150, down_kbit_s=1600, up_kbit_s=750, cpu_slowdown=4),
    # 40 ms and 9 Mbit/s down per issue 15; the 1.5 Mbit/s up is Chrome DevTools' "Fast 4G"
    # preset's (Lighthouse has no 4G upload figure of its own).
    "4g": Profile("4g", rtt_ms=40, down_kbit_s=9000, up_kbit_s=1500, cpu_slowdown=2),
}


def parse_profiles(text: str) -> list[Profile]:
    """`loopback,4g,slow4g` -> the profiles in that order; ValueError naming the bad one."""
    names = [part.strip().lower() for part in text.split(",")]
    if not all(names):
        raise ValueError(f"empty profile name in {text!r}")
    unknown = [n for n in names if n not in PROFILES]
    if unknown:
        raise ValueError(
            f"unknown network profile {', '.join(unknown)}; known: {', '.join(PROFILES)}"
        )
    if len(set(names)) != len(names):
        raise ValueError(f"a profile is named twice in {text!r}")
    return [PROFILES[n] for n in names]


def emulate(cdp: Any, profile: Profile) -> None:
    """Slow the CPU of the page of the CDP session `cdp` as `profile` says (before it
    navigates); the network is the relay's job."""
    if profile.cpu_slowdown != 1:
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": profile.cpu_slowdown})
