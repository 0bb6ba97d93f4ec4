"""Group commit: writes that threads ask for at the same time share one transaction.

A commit costs a flush of the log to disk and, on servers, holds the lock that serialises writers
until that flush is done; a thread that writes one row per transaction spends most of its time
waiting for it. :class:`GroupCommit` lets the caller that finds no writer at work lead: it writes
every item waiting (its own first) in one call of ``write``, at most ``most`` of them, while the
threads that arrive meanwhile wait. When it is done it hands the lead to the oldest of those, which
writes them all in the next call, and so on. No thread of its own, and no waiting for company: a
lone caller writes at once, as it would without the group.

A caller interrupted while it waits (``KeyboardInterrupt`` on the main thread) takes its item back
if no leader has taken it yet, and passes on the lead if it was just handed it; otherwise its item
is written with its group, and the caller cannot know the outcome.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Waiter(Generic[Item, Result]):
    """One caller's item, and what becomes of it."""

    __slots__ = ("item", "leads", "outcome", "woken")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.outcome: Result | BaseException | None = None
        self.leads = False
        self.woken = threading.Event()


class GroupCommit(Generic[Item, Result]):
    """Items from many threads, written by one of them at a time in groups (module docstring).

    ``write(items)`` writes a group and gives one outcome per item, in order; an exception that it
    raises is the outcome of every item of that group.
    """

    def __init__(self, write: Callable[[list[Item]], Sequence[Result | BaseException]], *, most: int) -> None:
        if most < 1:
            raise ValueError("most must be positive")
        self._write = write
        self._most = most
        self._lock = threading.Lock()
        self._waiting: list[_Waiter[Item, Result]] = []
        self._leading = False

    def submit(self, item: Item) -> Result:
        """Write ``item`` with whatever else is waiting; its result, or raise its exception."""
        waiter: _Waiter[Item, Result] = _Waiter(item)
        with self._lock:
            self._waiting.append(waiter)
            waiter.leads = not self._leading
            self._leading = True
        if not waiter.leads:
            try:
                waiter.woken.wait()
            except BaseException:  # interrupted (Ctrl-C reaches the main thread): leave the line
                self._leave(waiter)
                raise
        if waiter.leads:  # first, or handed the lead while waiting
            self._lead()
        outcome = waiter.outcome
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome  # type: ignore[return-value]  # set by _lead, a Result when not an exception

    def _leave(self, waiter: _Waiter[Item, Result]) -> None:
        """Take back a waiting caller's item, and pass on the lead if it was just handed one; an item
        that a leader has taken is written all the same."""
        with self._lock:
            if waiter not in self._waiting:
                return
            self._waiting.remove(waiter)
            if not waiter.leads:
                return
            if self._waiting:
                self._waiting[0].leads = True
                self._waiting[0].woken.set()
            else:
                self._leading = False

    def _lead(self) -> None:
        """Write the oldest waiting items (the leader's own first), then hand the lead on."""
        with self._lock:
            group = self._waiting[: self._most]
            del self._waiting[: self._most]
        try:
            outcomes: Sequence[Result | BaseException] = self._write([waiter.item for waiter in group])
            if len(outcomes) != len(group):
                raise RuntimeError(f"write gave {len(outcomes)} outcomes for {len(group)} items")
        except BaseException as exc:  # the group's callers raise it: none may wait forever
            outcomes = [exc] * len(group)
        with self._lock:
            if self._waiting:
                self._waiting[0].leads = True
                self._waiting[0].woken.set()
            else:
                self._leading = False
        for waiter, outcome in zip(group, outcomes, strict=True):
            waiter.outcome = outcome
            waiter.woken.set()
