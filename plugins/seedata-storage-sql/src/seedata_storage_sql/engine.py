"""The SQLAlchemy engine: the driver for each database, connection settings, and transactions that
begin the way we ask.

``database_url`` picks the database: ``sqlite:///path``, ``postgresql://`` (driver psycopg 3) or
``mariadb://`` / ``mysql://`` (driver PyMySQL); a URL naming one of those drivers
(``postgresql+psycopg://``, ``mariadb+pymysql://``) is taken as it is, other drivers are refused.

PostgreSQL and MariaDB connections get the statement deadline from the server itself, set once per
connection as it opens: ``statement_timeout`` and ``lock_timeout`` on PostgreSQL, ``max_statement_time``
and ``innodb_lock_wait_timeout`` on MariaDB. MariaDB sessions also read committed data, as PostgreSQL's
do, and keep times in UTC.

SQLite connections get, each as it is opened: WAL (readers never wait for the writer),
``synchronous=NORMAL`` (no fsync per commit; a power cut may lose the last commits, never consistency),
``busy_timeout`` (a writer waits for the lock instead of failing at once) and ``foreign_keys=ON``.

The ``sqlite3`` driver's own transaction handling is switched off: SQLAlchemy's ``begin`` event emits
``BEGIN IMMEDIATE`` for writes (taking the write lock at once, so a transaction that reads before it
writes cannot fail half-way with ``SQLITE_BUSY``), and nothing for reads, which are single statements
and then cost no transaction round trip.
"""

from __future__ import annotations

import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

from seedata_core.errors import ConfigError
from seedata_core.settings import Settings

WRITE_OPTION = "seedata_write"
"""Execution option: a transaction of this connection writes, so it takes the write lock at once."""

# The server runs requests on a pool of worker threads (40 by default); WAL lets them all read at once.
POOL_SIZE = 8
POOL_OVERFLOW = 32

PING_AFTER_IDLE_S = 1.0
"""A pooled connection left idle this long is pinged before its next use, and replaced if the server
closed it meanwhile (a restart, an idle timeout), instead of failing a request. One in use more
recently is not: a ping costs a round trip, as much as a statement of a flow's write. If the server
goes in that second, the request fails once (``StorageUnavailable``) and SQLAlchemy drops every
connection of the pool opened before."""

DRIVERS = {
    "sqlite": "sqlite+pysqlite",
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}
"""The URL scheme of each database, and the one driver the storage runs it with."""


def database_url(raw: str) -> URL:
    """``raw`` with its driver made explicit (module docstring); ``ConfigError`` for anything else."""
    try:
        url = make_url(raw)
    except Exception as exc:  # SQLAlchemy's ArgumentError, or a ValueError from a bad port
        raise ConfigError(f"database_url is not a database URL: {exc}") from exc
    backend, _, driver = url.drivername.partition("+")
    wanted = DRIVERS.get(backend)
    if wanted is None:
        raise ConfigError(
            f"database_url: unsupported database {backend!r} (use sqlite, postgresql or mariadb)"
        )
    if driver and url.drivername != wanted and not (backend == "sqlite" and driver == "pysqlite"):
        raise ConfigError(f"database_url: unsupported driver {url.drivername!r}, use {wanted!r}")
    if backend in ("mysql", "mariadb"):
        # Full Unicode (MariaDB's "utf8" is three bytes at most).
        url = url.update_query_dict({"charset": "utf8mb4"})
    return url.set(drivername=wanted)


BUFFER_POOL_ADVISED = 1 << 30
"""The least MariaDB ``innodb_buffer_pool_size`` that :func:`buffer_pool_warning` lets pass.

New flows' grams go to the end of each gram's range in ``plate_grams``, so every batch of writes
touches one page per distinct gram: tens of thousands of 16 KiB pages, hundreds of MiB. The stock
pool (128 MiB) cannot hold them once the table outgrows it, and MariaDB reads with ``O_DIRECT``,
past the system's file cache, so each batch reads them from disk again. Importing 1M flows on
2 cores: 14,500 flows/s with 128 MiB, 23,400 with 1 GiB (400,000 flows: 19,000 with 128 MiB). An
earlier 10M build with 128 MiB fell from 13,000 to 3,300 flows/s by 3.5M flows."""


def buffer_pool_warning(engine: Engine) -> str | None:
    """What to tell the operator of a MariaDB server whose buffer pool is below
    :data:`BUFFER_POOL_ADVISED`; ``None`` for a larger pool, or another database."""
    if engine.dialect.name not in ("mysql", "mariadb"):
        return None
    with engine.connect() as conn:
        size = int(conn.exec_driver_sql("SELECT @@innodb_buffer_pool_size").scalar_one())
    if size >= BUFFER_POOL_ADVISED:
        return None
    size_mib, advised_mib = f"{size / 2**20:,.0f}", f"{BUFFER_POOL_ADVISED / 2**20:,.0f}"
    setting = f"{BUFFER_POOL_ADVISED >> 20}M"
    return (
        f"MariaDB's innodb_buffer_pool_size is {size_mib} MiB, below the {advised_mib} MiB that keeps "
        "Seedata's plate index pages in memory: past about 500,000 flows, imports and camera writes "
        "slow down (imports to a quarter by 3,500,000 flows). Set innodb_buffer_pool_size = "
        f"{setting} or more in the server's configuration."
    )


def one_line(error: object) -> str:
    """A driver's error message on one line (psycopg's run over several)."""
    return " ".join(str(error).split())


def create_sql_engine(settings: Settings) -> Engine:
    """An engine for ``settings.resolved_database_url``; a new SQLite file is created with mode 0600."""
    url = database_url(settings.resolved_database_url)
    timeout_ms = settings.statement_timeout_ms
    match url.get_backend_name():
        case "postgresql":
            # libpq's "options": server settings applied as each connection opens, no round trip.
            options = f"-c statement_timeout={timeout_ms} -c lock_timeout={timeout_ms} -c timezone=UTC"
            return _server_engine(url, {"options": options})
        case "mysql" | "mariadb":
            init = (
                f"SET SESSION max_statement_time = {timeout_ms / 1000:.3f}, "
                f"innodb_lock_wait_timeout = {max(1, math.ceil(timeout_ms / 1000))}, "
                "time_zone = '+00:00'"
            )
            # Several statements in one query: a new flow's write goes in one round trip (pipeline.py).
            # FOUND_ROWS is what SQLAlchemy asks for, and this flag replaces its own.
            from pymysql.constants import CLIENT  # type: ignore[import-untyped]  # the MariaDB driver only

            flags = CLIENT.MULTI_STATEMENTS | CLIENT.FOUND_ROWS
            return _server_engine(
                url, {"init_command": init, "client_flag": flags}, isolation_level="READ COMMITTED"
            )
    _create_sqlite_file(url)
    busy_ms = timeout_ms
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


def _server_engine(url: URL, connect_args: dict[str, Any], **options: Any) -> Engine:
    engine = create_engine(
        url, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, connect_args=connect_args, **options
    )
    event.listen(engine.pool, "checkin", _idle_from_now)
    event.listen(engine.pool, "checkout", _ping_if_idle(engine))
    return engine


def _idle_from_now(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(engine: Engine) -> Callable[[Any, ConnectionPoolEntry, Any], None]:
    """A pool checkout hook that pings a connection idle for :data:`PING_AFTER_IDLE_S` or longer, and
    replaces it if the server does not answer."""
    dialect = engine.dialect

    def checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_S:
            return  # just opened, or in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            # The pool drops this connection and checks out another (a new one if need be).
            raise sa_exc.DisconnectionError(one_line(exc)) from exc

    return checkout


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
    # On the driver connection: through SQLAlchemy, a statement would begin a transaction.
    driver = conn.connection.driver_connection
    assert driver is not None, "an open connection has its driver connection"
    if conn.dialect.name in ("mysql", "mariadb"):
        # InnoDB checks a flow's camera row on every insert; the importer locks the batch's cameras
        # (FOR SHARE) instead, once a batch, so none goes while its flows go in.
        with driver.cursor() as cursor:
            cursor.execute("SET SESSION foreign_key_checks = 0")
        try:
            yield
        finally:
            with driver.cursor() as cursor:
                cursor.execute("SET SESSION foreign_key_checks = 1")
        return
    if not isinstance(driver, sqlite3.Connection):
        yield
        return
    saved = {name: driver.execute(f"PRAGMA {name}").fetchone()[0] for name in _BULK_PRAGMAS}
    for name, value in _BULK_PRAGMAS.items():
        driver.execute(f"PRAGMA {name} = {value}")
    try:
        yield
    finally:
        for name, value in saved.items():
            driver.execute(f"PRAGMA {name} = {int(value)}")
