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

    def prune(self, horizon: float) -> None:
        for times in (self.failures, self.pending):
            while times and times[0] <= horizon:
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

    def __init__(self, limit: int, max_keys: int) -> None:
        self.limit = limit
        self.max_keys = max_keys
        self.tallies: OrderedDict[str, _Tally] = OrderedDict()

    def get(self, key: str, horizon: float) -> _Tally | None:
        tally = self.tallies.get(key)
        if tally is not None:
            tally.prune(horizon)
        return tally

    def touch(self, key: str, horizon: float) -> _Tally:
        tally = self.get(key, horizon)
        if tally is None:
            tally = self.tallies[key] = _Tally(self.limit)
            self._shrink(horizon)
        else:
            self.tallies.move_to_end(key)
        return tally

    def _shrink(self, horizon: float) -> None:
        # Least recently active first: drop those with nothing left in the window, then, if still
        # too many, the oldest active ones.
        while len(self.tallies) > 1:
            first = next(iter(self.tallies.values()))
            first.prune(horizon)
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
        self._window = window
        self._clock = clock
        self._addresses = _Keys(per_address, max_keys)
        self._accounts = _Keys(per_account, max_keys)
        self._lock = threading.Lock()

    def check(self, address: str, account: str) -> None:
        """Raise :class:`Throttled` if either key is at its limit; otherwise reserve a place in both."""
        now = self._clock()
        horizon = now - self._window
        keys = ((self._addresses, address), (self._accounts, account.lower()))
        with self._lock:
            blocked_until = [
                tally.oldest() + self._window
                for kind, key in keys
                if (tally := kind.get(key, horizon)) is not None and tally.count() >= kind.limit
            ]
            if blocked_until:
                raise Throttled(max(1, math.ceil(max(blocked_until) - now)))
            for kind, key in keys:
                kind.touch(key, horizon).pending.append(now)

    def record_failure(self, address: str, account: str) -> None:
        """The login failed: its reservation becomes a failure of both keys."""
        now = self._clock()
        horizon = now - self._window
        with self._lock:
            for kind, key in ((self._addresses, address), (self._accounts, account.lower())):
                tally = kind.touch(key, horizon)
                tally.settle()
                tally.failures.append(now)

    def record_success(self, address: str, account: str) -> None:
        """The login succeeded: the account's failures are forgotten; the address keeps its own."""
        horizon = self._clock() - self._window
        with self._lock:
            self._settle(self._addresses, address, horizon)
            self._accounts.tallies.pop(account.lower(), None)

    def release(self, address: str, account: str) -> None:
        """The attempt ended without an answer (e.g. storage down): drop its reservation uncounted."""
        horizon = self._clock() - self._window
        with self._lock:
            self._settle(self._addresses, address, horizon)
            self._settle(self._accounts, account.lower(), horizon)

    def tracked_keys(self) -> int:
        """How many addresses and accounts are tracked now (for metrics and the memory bound)."""
        with self._lock:
            return len(self._addresses.tallies) + len(self._accounts.tallies)

    @staticmethod
    def _settle(kind: _Keys, key: str, horizon: float) -> None:
        tally = kind.get(key, horizon)
        if tally is not None:
            tally.settle()
