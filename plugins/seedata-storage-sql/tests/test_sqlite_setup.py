"""How SQLite is set up: connection pragmas, file permissions, transactions, read deadlines."""

from __future__ import annotations

import sqlite3
import stat
import time
from pathlib import Path

import pytest
from seedata_storage_sql import SqlStorage, open_storage
from seedata_storage_sql.engine import WRITE_OPTION
from seedata_storage_sql.watchdog import Watchdog
from sqlalchemy import text

from seedata_core.errors import ConfigError, StorageUnavailable
from seedata_core.models import NewCamera
from seedata_core.settings import Settings

DATABASES = ("sqlite",)
"""These tests are about SQLite itself."""


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_connection_gets_the_pragmas(tmp_path: Path) -> None:
    storage = open_storage(Settings(data_dir=str(tmp_path), statement_timeout_ms=1234))
    try:
        # Several connections at once, so the pool has to open more than one.
        with storage.engine.connect() as first, storage.engine.connect() as second:
            for conn in (first, second):
                pragmas = {
                    name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                    for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
                }
                assert pragmas == {
                    "journal_mode": "wal",
                    "synchronous": 1,
                    "busy_timeout": 1234,
                    "foreign_keys": 1,
                }
    finally:
        storage.close()


def test_new_data_directory_and_database_are_private(tmp_path: Path) -> None:
    data = tmp_path / "nested" / "data"
    storage = open_storage(Settings(data_dir=str(data)))
    try:
        storage.add_camera(NewCamera(alias="Gate", source="a"))  # so that the WAL file exists
        assert mode(data) == 0o700
        assert mode(data / "seedata.db") == 0o600
        assert mode(data / "seedata.db-wal") == 0o600
        assert mode(data / "images") == 0o700
    finally:
        storage.close()


def test_in_memory_databases_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="in-memory"):
        open_storage(Settings(data_dir=str(tmp_path), database_url="sqlite://"))


def test_an_unreachable_database_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "not-a-db").mkdir()
    with pytest.raises(StorageUnavailable):
        open_storage(
            Settings(data_dir=str(tmp_path / "data"), database_url=f"sqlite:///{tmp_path / 'not-a-db'}")
        )


def test_write_transactions_take_the_lock_at_begin(storage: SqlStorage) -> None:
    with storage.engine.connect() as writer, storage.engine.connect() as other:
        writer.execution_options(**{WRITE_OPTION: True})
        with writer.begin():
            # BEGIN IMMEDIATE holds the write lock before the first write: nobody else may start one.
            driver = other.connection.driver_connection
            assert driver is not None
            driver.execute("PRAGMA busy_timeout = 0")
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                driver.execute("BEGIN IMMEDIATE")
            driver.execute("PRAGMA busy_timeout = 5000")


def test_single_reads_run_outside_transactions(storage: SqlStorage) -> None:
    with storage.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        driver = conn.connection.driver_connection
        assert driver is not None
        assert not driver.in_transaction


ENDLESS = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n"
COUNT_TO_A_MILLION = (
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000000) SELECT max(x) FROM n"
)


def test_deadline_interrupts_a_runaway_query(storage: SqlStorage) -> None:
    watchdog = Watchdog()
    pooled = storage.engine.raw_connection()
    try:
        cursor = pooled.cursor()
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="interrupted"), watchdog.deadline(pooled, 0.05):
            cursor.execute(ENDLESS)
        assert time.monotonic() - started < 1
        # A deadline that passes after its block ended interrupts nothing later.
        with watchdog.deadline(pooled, 0.05):
            cursor.execute("SELECT 1")
            assert cursor.fetchall() == [(1,)]
        time.sleep(0.1)
        cursor.execute(COUNT_TO_A_MILLION)
        assert cursor.fetchall() == [(1_000_000,)]
    finally:
        pooled.close()
        watchdog.stop()
    watchdog.stop()  # idempotent
