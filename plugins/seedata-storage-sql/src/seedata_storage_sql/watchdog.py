"""Statement deadlines for SQLite: a watchdog thread interrupts reads that run too long.

SQLite has no statement timeout. A progress handler could check the clock, but it calls into Python
every few thousand steps of the query, and each call must take the GIL: with other threads busy, a
200 ms scan took 8 s in a measurement. ``sqlite3.Connection.interrupt()``, called from another thread
when the deadline passes, costs the query nothing; the query then fails with ``OperationalError``
("interrupted"). An interrupt only reaches statements running at that moment, so it cannot leak
into the connection's next use.
"""

from __future__ import annotations

import itertools
import math
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.pool import PoolProxiedConnection


class Watchdog:
    """Interrupts SQLite statements run under :meth:`deadline` once their time is up.

    Its thread starts with the first deadline and sleeps until the earliest one; about one wake-up
    per timeout period under steady traffic. Other databases enforce their own statement timeouts.
    """

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._running: dict[int, tuple[float, sqlite3.Connection]] = {}
        self._tokens = itertools.count()
        self._wake_at = math.inf
        self._thread: threading.Thread | None = None
        self._stopped = False

    @contextmanager
    def deadline(self, connection: PoolProxiedConnection, seconds: float) -> Iterator[None]:
        """Interrupt what ``connection`` runs past ``seconds`` from now; fetch the rows inside the block."""
        driver = connection.driver_connection
        if not isinstance(driver, sqlite3.Connection):
            yield
            return
        due = time.monotonic() + seconds
        token = next(self._tokens)
        with self._lock:
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._watch, name="seedata-sql-watchdog", daemon=True)
                self._thread.start()
            self._running[token] = (due, driver)
            if due < self._wake_at:
                self._lock.notify()
        try:
            yield
        finally:
            with self._lock:
                # Under the lock: once this returns, no interrupt can be on its way to the connection.
                del self._running[token]

    def stop(self) -> None:
        """End the thread; later deadlines are not enforced. Idempotent."""
        with self._lock:
            self._stopped = True
            self._lock.notify()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _watch(self) -> None:
        with self._lock:
            while not self._stopped:
                now = time.monotonic()
                self._wake_at = math.inf
                for token, (due, driver) in list(self._running.items()):
                    if due <= now:
                        driver.interrupt()
                        self._running[token] = (math.inf, driver)  # interrupted once is enough
                    else:
                        self._wake_at = min(self._wake_at, due)
                self._lock.wait(None if self._wake_at == math.inf else self._wake_at - now)
