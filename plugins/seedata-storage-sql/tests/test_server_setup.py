"""How PostgreSQL and MariaDB connections and tables are set up: deadlines, isolation, collations."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest
from seedata_storage_sql import SqlStorage, open_storage
from seedata_storage_sql import engine as engine_module
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from seedata_core.errors import StorageUnavailable
from seedata_core.filter_ast import MATCH_ALL
from seedata_core.models import Camera, FlowImages, NewCamera, NewFlow
from seedata_core.settings import Settings

DATABASES = ("postgresql", "mariadb")
"""SQLite's own setup is tested in test_sqlite_setup."""

SettingsMaker = Callable[..., Settings]


def test_every_connection_gets_the_deadline(make_settings: SettingsMaker) -> None:
    storage = open_storage(make_settings(statement_timeout_ms=1234))
    try:
        # Several connections at once, so the pool has to open more than one.
        with storage.engine.connect() as first, storage.engine.connect() as second:
            for conn in (first, second):
                if conn.dialect.name == "postgresql":
                    row = conn.execute(
                        text(
                            "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'),"
                            " current_setting('TimeZone')"
                        )
                    ).one()
                    assert tuple(row) == ("1234ms", "1234ms", "UTC")
                else:
                    row = conn.execute(
                        text(
                            "SELECT @@max_statement_time, @@innodb_lock_wait_timeout, @@time_zone,"
                            " @@tx_isolation, @@character_set_client"
                        )
                    ).one()
                    assert tuple(row) == (1.234, 2, "+00:00", "READ-COMMITTED", "utf8mb4")
    finally:
        storage.close()


def test_opening_warns_of_a_mariadb_buffer_pool_below_the_advised_size(
    make_settings: SettingsMaker, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings()
    storage = open_storage(settings)  # migrated: the opens below only read the server's settings
    with storage.engine.connect() as conn:
        mariadb = conn.dialect.name == "mariadb"
        size = int(conn.exec_driver_sql("SELECT @@innodb_buffer_pool_size").scalar_one()) if mariadb else 0
    storage.close()

    def warnings_when_advised(advised: int) -> list[str]:
        monkeypatch.setattr(engine_module, "BUFFER_POOL_ADVISED", advised)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="seedata_storage_sql"):
            open_storage(settings).close()
        return [record.getMessage() for record in caplog.records]

    assert warnings_when_advised(size) == []
    mib = f"{size / 2**20:,.0f}"
    expected = (
        f"MariaDB's innodb_buffer_pool_size is {mib} MiB, below the {mib} MiB that keeps Seedata's plate "
        "index pages in memory: past about 500,000 flows, imports and camera writes slow down (imports to "
        f"a quarter by 3,500,000 flows). Set innodb_buffer_pool_size = {(size + 1) >> 20}M or more in the "
        "server's configuration."
    )
    assert warnings_when_advised(size + 1) == ([expected] if mariadb else [])


def test_text_columns_compare_exactly(storage: SqlStorage) -> None:
    with storage.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            collations = conn.execute(
                text(
                    "SELECT column_name, collation_name FROM information_schema.columns"
                    " WHERE table_name = 'flows' AND collation_name IS NOT NULL ORDER BY column_name"
                )
            ).all()
            assert collations == [("plate", "C"), ("plate_key", "C"), ("plate_rkey", "C")]
        else:
            tables = conn.execute(
                text(
                    "SELECT table_name, table_collation FROM information_schema.tables"
                    " WHERE table_schema = DATABASE() AND table_name != 'alembic_version'"
                    " ORDER BY table_name"
                )
            ).all()
            # Sorted here: the server's ORDER BY follows its own collation ("cameras" < "camera_leases").
            assert sorted(tables) == [
                (name, "utf8mb4_nopad_bin")
                for name in (
                    "camera_flow_hours",
                    "camera_leases",
                    "cameras",
                    "counters",
                    "flow_hours",
                    "flows",
                    "plate_grams",
                    "plate_piece_days",
                    "signing_keys",
                    "users",
                )
            ]
            types = dict(
                conn.execute(
                    text(
                        "SELECT column_name, column_type FROM information_schema.columns"
                        " WHERE table_schema = DATABASE() AND table_name = 'flows'"
                    )
                ).all()
            )
            assert (types["id"], types["score"]) == ("bigint(20)", "double")


def test_a_write_waits_for_a_lock_at_most_the_deadline(
    make_settings: SettingsMaker, make_flow: Callable[..., NewFlow]
) -> None:
    storage = open_storage(make_settings(statement_timeout_ms=1000))
    try:
        camera = storage.add_camera(NewCamera(alias="Gate", source="s"))
        with storage.engine.connect() as holder:
            # Another process's transaction holds the total counter, which every flow write takes.
            holder.execute(text("UPDATE counters SET value = value WHERE name = 'flows'"))
            with pytest.raises(StorageUnavailable):
                storage.add_flow(make_flow(camera.id), FlowImages())
            holder.rollback()
        storage.add_flow(make_flow(camera.id), FlowImages())
    finally:
        storage.close()


def test_two_processes_migrating_at_once_migrate_once(empty_settings: Settings) -> None:
    opened: list[SqlStorage] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            opened.append(open_storage(empty_settings))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        with opened[0].engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
            assert conn.execute(text("SELECT name, value FROM counters")).all() == [("flows", 0)]
    finally:
        for storage in opened:
            storage.close()


def _drop_pooled_connections(storage: SqlStorage) -> None:
    """Put two connections in ``storage``'s pool, then end their server side as a restart does."""
    postgresql = storage.engine.dialect.name == "postgresql"
    own = text("SELECT pg_backend_pid()" if postgresql else "SELECT CONNECTION_ID()")
    with storage.engine.connect() as first, storage.engine.connect() as second:
        pooled = [conn.execute(own).scalar_one() for conn in (first, second)]
    admin = create_engine(storage.engine.url, poolclass=NullPool)
    try:
        with admin.connect() as conn:
            for server_id in pooled:
                end = f"SELECT pg_terminate_backend({server_id})" if postgresql else f"KILL {server_id}"
                conn.execute(text(end))
    finally:
        admin.dispose()


@pytest.fixture
def dropped(storage: SqlStorage) -> Camera:
    """A camera stored, then every connection in the pool dropped by the server."""
    camera = storage.add_camera(NewCamera(alias="gate", source="s"))
    _drop_pooled_connections(storage)
    return camera


def test_a_connection_dropped_while_idle_is_replaced(
    storage: SqlStorage, dropped: Camera, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 0.0)  # every pooled connection is idle
    assert storage.get_camera(dropped.id) == dropped


def test_a_connection_dropped_while_busy_fails_one_call(
    storage: SqlStorage, dropped: Camera, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 3600.0)  # no pooled connection is pinged
    with pytest.raises(StorageUnavailable, match="unavailable"):
        storage.get_camera(dropped.id)
    # The failure dropped the pool's connections: the next call opens a new one.
    assert storage.get_camera(dropped.id) == dropped


def test_a_prepared_read_on_a_dropped_connection_fails_one_call(
    storage: SqlStorage, dropped: Camera, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hot reads run on the driver's cursor (prepared.py), outside a transaction on PostgreSQL.
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 3600.0)
    calls = [lambda: storage.count_flows(MATCH_ALL) == 0, lambda: storage.get_flow(1) is None]
    failures: list[str] = []
    for call in calls * 2:  # each of the two dropped connections fails one call, then no more
        try:
            assert call()
        except StorageUnavailable as exc:
            failures.append(str(exc))
    assert 1 <= len(failures) <= 2
    assert all("the database is unavailable" in failure for failure in failures)
    assert storage.count_flows(MATCH_ALL) == 0
    assert storage.list_cameras() == [dropped]


def test_prepared_reads_leave_their_connections_in_transactions(storage: SqlStorage) -> None:
    # A read runs in autocommit on PostgreSQL; the next user of its connection must get a transaction.
    for _ in range(3):
        storage.count_flows(MATCH_ALL)
    with storage.engine.connect() as conn:
        conn.execute(text("INSERT INTO counters (name, value) VALUES ('probe', 1)"))
        conn.rollback()
        assert conn.execute(text("SELECT COUNT(*) FROM counters WHERE name = 'probe'")).scalar() == 0
