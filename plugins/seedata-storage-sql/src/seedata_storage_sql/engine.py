"""The SQLAlchemy engine: connection settings, and transactions that begin the way we ask.

SQLite connections get, each as it is opened: WAL (readers never wait for the writer),
``synchronous=NORMAL`` (no fsync per commit; a power cut may lose the last commits, never consistency),
``busy_timeout`` (a writer waits for the lock instead of failing at once) and ``foreign_keys=ON``.

The ``sqlite3`` driver's own transaction handling is switched off: SQLAlchemy's ``begin`` event emits
``BEGIN IMMEDIATE`` for writes (taking the write lock at once, so a transaction that reads before it
writes cannot fail half-way with ``SQLITE_BUSY``), and nothing for reads, which are single statements
and then cost no transaction round trip.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

from seedata_core.errors import ConfigError
from seedata_core.settings import Settings

WRITE_OPTION = "seedata_write"
"""Execution option: a transaction of this connection writes, so it takes the write lock at once."""

# The server runs requests on a pool of worker threads (40 by default); WAL lets them all read at once.
POOL_SIZE = 8
POOL_OVERFLOW = 32


def create_sql_engine(settings: Settings) -> Engine:
    """An engine for ``settings.resolved_database_url``; a new SQLite file is created with mode 0600."""
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    _create_sqlite_file(url)
    busy_ms = settings.statement_timeout_ms
    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        connect_args={"check_same_thread": False, "timeout": busy_ms / 1000},
    )
    event.listen(engine, "connect", _sqlite_on_connect(busy_ms))
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _create_sqlite_file(url: URL) -> None:
    database = url.database or ""
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        # Every pooled connection would get a database of its own.
        raise ConfigError("the SQL storage needs an SQLite file, not an in-memory database")
    path = Path(database)
    if path.exists():
        return
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # The database holds the JWT signing keys: nobody but the owner may read it. SQLite gives its WAL
    # and shared-memory files the mode of the database file.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return
    os.close(fd)


def _sqlite_on_connect(busy_ms: int) -> Callable[[Any, ConnectionPoolEntry], None]:
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (module docstring)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    return on_connect


def _sqlite_begin(conn: Connection) -> None:
    if conn.get_execution_options().get(WRITE_OPTION):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


# While bulk loading: a cache that holds the indexes' hot pages, and a checkpoint every ~40 MiB of WAL
# rather than every 4 MiB (each checkpoint fsyncs and rewrites pages that the next batch dirties again).
_BULK_PRAGMAS = {"cache_size": -65536, "wal_autocheckpoint": 10000}


@contextmanager
def bulk_load(conn: Connection) -> Iterator[None]:
    """Tune ``conn`` for a stream of large insert transactions, and restore it afterwards."""
    driver = conn.connection.driver_connection
    if not isinstance(driver, sqlite3.Connection):
        yield
        return
    # On the driver connection: through SQLAlchemy, a statement would begin a transaction.
    saved = {name: driver.execute(f"PRAGMA {name}").fetchone()[0] for name in _BULK_PRAGMAS}
    for name, value in _BULK_PRAGMAS.items():
        driver.execute(f"PRAGMA {name} = {value}")
    try:
        yield
    finally:
        for name, value in saved.items():
            driver.execute(f"PRAGMA {name} = {int(value)}")
