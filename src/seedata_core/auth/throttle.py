"""Throttling of failed logins, per client address and per account, over a sliding window.

Each key (an address, or an account's lower-cased email) keeps the times of its recent failures and of
its attempts still in progress. A key that holds its limit of them within the last ``window`` seconds
is refused with :class:`~seedata_core.errors.Throttled` until the oldest one leaves the window.

Attempts in progress count because logins run in parallel worker threads: if only finished failures
counted, a burst of concurrent guesses would all pass :meth:`LoginThrottle.check` before the first one
failed. So ``check`` reserves a place, and the outcome (``record_failure``, ``record_success`` or
``release``) settles it. A reservation that is never settled expires with the window like a failure.

Memory is bounded: each kind of key tracks at most ``max_keys`` keys, forgetting the least recently
active first.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from ..errors import Throttled

__all__ = ["LoginThrottle"]


class _Tally:
    """Recent failures and unsettled reservations of one key, oldest first."""

    __slots__ = ("failures", "pending")

    def __init__(self, limit: int) -> None:
        # Only the newest ``limit`` entries can ever matter, so no key grows beyond that.
        self.failures: deque[float] = deque(maxlen=limit)
        self.pending: deque[float] = deque(maxlen=limit)

    def prune(self, now: float, window: float) -> None:
        # ``t + window <= now`` rather than ``t <= now - window``: the same sum as in the retry delay,
        # so rounding cannot make an entry expired for one and alive for the other.
        for times in (self.failures, self.pending):
            while times and times[0] + window <= now:
                times.popleft()

    def count(self) -> int:
        return len(self.failures) + len(self.pending)

    def oldest(self) -> float:
        return min(times[0] for times in (self.failures, self.pending) if times)

    def settle(self) -> None:
        if self.pending:
            self.pending.popleft()


class _Keys:
    """The tallies of one kind of key, in order of last activity, with a limit per key."""

    def __init__(self, limit: int, window: float, max_keys: int) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self.tallies: OrderedDict[str, _Tally] = OrderedDict()

    def get(self, key: str, now: float) -> _Tally | None:
        tally = self.tallies.get(key)
        if tally is not None:
            tally.prune(now, self.window)
        return tally

    def blocked_until(self, key: str, now: float) -> float | None:
        """When ``key`` may try again, if it is at its limit now."""
        tally = self.get(key, now)
        if tally is None or tally.count() < self.limit:
            return None
        return tally.oldest() + self.window

    def touch(self, key: str, now: float) -> _Tally:
        tally = self.get(key, now)
        if tally is None:
            tally = self.tallies[key] = _Tally(self.limit)
            self._shrink(now)
        else:
            self.tallies.move_to_end(key)
        return tally

    def _shrink(self, now: float) -> None:
        # Least recently active first: drop those with nothing left in the window, then, if still
        # too many, the oldest active ones.
        while len(self.tallies) > 1:
            first = next(iter(self.tallies.values()))
            first.prune(now, self.window)
            if first.count() and len(self.tallies) <= self.max_keys:
                return
            self.tallies.popitem(last=False)


class LoginThrottle:
    """Refuses logins after ``per_address`` failures from one address or ``per_account`` for one account
    within ``window`` seconds. Thread-safe.

    The protocol of one login: :meth:`check` (raises or reserves a place), then exactly one of
    :meth:`record_failure`, :meth:`record_success` or :meth:`release`.
    """

    def __init__(
        self,
        per_address: int,
        per_account: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_keys: int = 100_000,
    ) -> None:
        if per_address < 1 or per_account < 1 or window <= 0 or max_keys < 1:
            raise ValueError("limits, window and max_keys must be positive")
        self._clock = clock
        self._addresses = _Keys(per_address, window, max_keys)
        self._accounts = _Keys(per_account, window, max_keys)
        self._lock = threading.Lock()

    def check(self, address: str, account: str) -> None:
        """Raise :class:`Throttled` if either key is at its limit; otherwise reserve a place in both."""
        now = self._clock()
        keys = ((self._addresses, address), (self._accounts, account.lower()))
        with self._lock:
            blocked = [until for kind, key in keys if (until := kind.blocked_until(key, now)) is not None]
            if blocked:
                raise Throttled(_seconds_until(max(blocked), now))
            for kind, key in keys:
                kind.touch(key, now).pending.append(now)

    def record_failure(self, address: str, account: str) -> None:
        """The login failed: its reservation becomes a failure of both keys."""
        now = self._clock()
        with self._lock:
            for kind, key in ((self._addresses, address), (self._accounts, account.lower())):
                tally = kind.touch(key, now)
                tally.settle()
                tally.failures.append(now)

    def record_success(self, address: str, account: str) -> None:
        """The login succeeded: the account's failures are forgotten; the address keeps its own."""
        now = self._clock()
        with self._lock:
            self._settle(self._addresses, address, now)
            self._accounts.tallies.pop(account.lower(), None)

    def release(self, address: str, account: str) -> None:
        """The attempt ended without an answer (e.g. storage down): drop its reservation uncounted."""
        now = self._clock()
        with self._lock:
            self._settle(self._addresses, address, now)
            self._settle(self._accounts, account.lower(), now)

    def tracked_keys(self) -> int:
        """How many addresses and accounts are tracked now (for metrics and the memory bound)."""
        with self._lock:
            return len(self._addresses.tallies) + len(self._accounts.tallies)

    @staticmethod
    def _settle(kind: _Keys, key: str, now: float) -> None:
        tally = kind.get(key, now)
        if tally is not None:
            tally.settle()


def _seconds_until(until: float, now: float) -> int:
    """The fewest whole seconds, at least 1, after which ``until`` has come: ``now + seconds >= until``
    exactly as the clock's floats will compare it (``ceil(until - now)`` can be one off either way)."""
    seconds = max(1, math.floor(until - now))
    while now + seconds < until:
        seconds += 1
    return seconds
