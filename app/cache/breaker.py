"""A circuit breaker, so that with Redis down requests do not each wait for a timeout."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitBreaker:
    """closed -> (threshold failures in a row) -> open for `cooldown_s` -> one probe -> ..."""

    def __init__(
        self,
        threshold: int = 3,
        cooldown_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until = 0.0
        self._probing = False
        self.opened = 0  # how many times it tripped, for metrics and tests

    @property
    def is_open(self) -> bool:
        return self._failures >= self.threshold and self._clock() < self._open_until

    def allow(self) -> bool:
        """May this call try the backend? While open: no; after the cooldown: one probe."""
        with self._lock:
            if self._failures < self.threshold:
                return True
            if self._clock() < self._open_until or self._probing:
                return False
            self._probing = True
            return True

    def success(self) -> bool:
        """Record a success; True when this closes a breaker that was open."""
        with self._lock:
            recovered = self._failures >= self.threshold
            self._failures = 0
            self._probing = False
            return recovered

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            self._probing = False
            if self._failures >= self.threshold:
                if self._clock() >= self._open_until:
                    self.opened += 1
                self._open_until = self._clock() + self.cooldown_s
