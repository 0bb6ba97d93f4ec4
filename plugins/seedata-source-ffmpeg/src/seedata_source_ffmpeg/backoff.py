"""How long to wait before reconnecting a camera: capped exponential backoff, a pure policy."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Backoff:
    """Delays that grow by ``factor`` from ``initial`` up to ``cap`` seconds.

    ``delay(failures)`` is the wait before the next connection attempt, where ``failures`` counts the
    attempts in a row that delivered no frame. A connection that delivered frames resets the count to
    0, so even a camera that drops every few seconds waits ``initial`` before each reconnect and never
    spins.
    """

    initial: float = 0.25
    factor: float = 2.0
    cap: float = 2.0

    def __post_init__(self) -> None:
        if not (self.initial > 0 and self.factor >= 1 and self.cap >= self.initial):
            raise ValueError(f"backoff needs 0 < initial <= cap and factor >= 1, got {self}")

    def delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` consecutive fruitless attempts (0 or more)."""
        if failures < 0:
            raise ValueError(f"failures must be 0 or more, got {failures}")
        # Compare in log space so a long outage cannot overflow factor ** failures.
        if self.factor > 1 and failures * math.log(self.factor) >= math.log(self.cap / self.initial):
            return self.cap
        return min(self.cap, self.initial * self.factor**failures)
