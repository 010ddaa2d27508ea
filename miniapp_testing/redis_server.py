"""A redis-server of the caller's own on a free port, without persistence: started, killed
(SIGKILL), paused (SIGSTOP, a hung Redis) and resumed, never the shared one."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from miniapp_testing.ports import free_port


class RedisDidNotStart(RuntimeError):
    pass


class PrivateRedis:
    """`PrivateRedis().start()`; `.url` for clients; `.stop()` at the end, whatever happened.

    `own_session`: the server leaves the caller's process group, so a Ctrl-C meant for the
    caller does not kill it before the caller's own cleanup has used it.
    """

    def __init__(self, port: int | None = None, *, own_session: bool = False) -> None:
        self.port = port or free_port()
        self.own_session = own_session
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        # No retries: redis-py's default retries a refused connection with a backoff.
        client = redis.Redis(
            port=self.port,
            socket_connect_timeout=0.2,
            socket_timeout=0.2,
            retry=Retry(NoBackoff(), 0),
        )
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def start(self, timeout_s: float = 10) -> PrivateRedis:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        exe = shutil.which("redis-server")
        if exe is None:
            raise RedisDidNotStart("redis-server is not on PATH")
        args = [exe, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=self.own_session,
        )
        deadline = time.monotonic() + timeout_s
        while not self.ping():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RedisDidNotStart(f"private redis-server on {self.port} did not start")
            time.sleep(0.01)
        return self

    def kill(self) -> None:
        """kill -9: the data is gone, the port refuses connections."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def pause(self) -> None:
        """SIGSTOP: the port accepts connections but nothing answers (a hung Redis)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(Exception):
                self.resume()
            self.kill()
