"""Local TCP ports: a free one to start a server on, and whether one is taken."""

from __future__ import annotations

import socket
import time


def free_port() -> int:
    """A port nothing listens on now (the kernel's pick), for a server about to start."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_busy(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_port_free(port: int, timeout_s: float = 10) -> None:
    """Until nothing answers on `port` (a stopped server's), so a restart can bind it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and port_busy(port):
        time.sleep(0.1)
