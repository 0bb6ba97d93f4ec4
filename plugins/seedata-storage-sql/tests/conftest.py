"""Fixtures for the SQL storage's tests, on real databases: SQLite files, PostgreSQL and MariaDB.

Every test that uses the ``db`` argument (through ``storage``, ``settings`` and the like) runs once
per database named in ``SEEDATA_TEST_DATABASES`` (comma-separated; default ``sqlite,postgresql,mariadb``).
A module that only makes sense on some of them says so with ``DATABASES = ("sqlite",)``.

Servers: PostgreSQL at ``SEEDATA_TEST_POSTGRESQL_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``), MariaDB at ``SEEDATA_TEST_MARIADB_URL`` (default
``mariadb://root@127.0.0.1:3306/``); ``scripts/start-databases`` starts them. Each run creates
databases of its own (``seedata_test_<pid>_<random>``) through those admin URLs and drops them when it
ends, so parallel and repeated runs never meet. A server that does not answer fails the tests that
need it, with the reason: never a silent skip.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from seedata_storage_sql import SqlStorage, migrate, open_storage
from seedata_storage_sql.engine import create_sql_engine
from seedata_storage_sql.engine import database_url as driver_url
from sqlalchemy import Engine, create_engine, text
from sqlalchemy import exc as sa_exc

from seedata_core.models import NewCamera, NewFlow
from seedata_core.settings import Settings

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
ALL_DATABASES = ("sqlite", "postgresql", "mariadb")
ADMIN_URLS = {
    "postgresql": os.environ.get(
        "SEEDATA_TEST_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    ),
    "mariadb": os.environ.get("SEEDATA_TEST_MARIADB_URL", "mariadb://root@127.0.0.1:3306/"),
}
TABLES = ("flows", "cameras", "users", "signing_keys", "counters")

FlowMaker = Callable[..., NewFlow]
SettingsMaker = Callable[..., Settings]
Emptier = Callable[..., None]


def selected_databases() -> tuple[str, ...]:
    """The databases this run tests, from ``SEEDATA_TEST_DATABASES``."""
    raw = os.environ.get("SEEDATA_TEST_DATABASES", ",".join(ALL_DATABASES))
    names = tuple(name.strip() for name in raw.split(",") if name.strip())
    unknown = sorted(set(names) - set(ALL_DATABASES))
    if unknown or not names:
        raise pytest.UsageError(
            f"SEEDATA_TEST_DATABASES={raw!r}: name some of {', '.join(ALL_DATABASES)} (comma-separated)"
        )
    return names


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db" in metafunc.fixturenames:
        allowed = getattr(metafunc.module, "DATABASES", ALL_DATABASES)
        names = [name for name in selected_databases() if name in allowed]
        # Session scope: each database's tests run together, on databases made once per run.
        metafunc.parametrize("db", names, scope="session")


class ServerDatabases:
    """Databases made for this run on the PostgreSQL and MariaDB servers, dropped at its end."""

    def __init__(self) -> None:
        self.run_id = f"seedata_test_{os.getpid()}_{secrets.token_hex(3)}"
        self._made: list[tuple[str, str]] = []
        self._engines: dict[str, Engine] = {}
        self._shared: dict[str, str] = {}

    def shared(self, db: str) -> str:
        """The URL of this run's main database on ``db``'s server, migrated (made on first use)."""
        if db not in self._shared:
            url = self.create(db)
            engine = create_sql_engine(Settings(database_url=url))
            try:
                migrate.upgrade(engine)
            finally:
                engine.dispose()
            self._shared[db] = url
        return self._shared[db]

    def create(self, db: str) -> str:
        """The URL of a new, empty database on ``db``'s server; fails the test if the server is down."""
        name = f"{self.run_id}_{len(self._made)}"
        admin = self._admin(db)
        failure = None
        try:
            with admin.connect() as conn:
                if db == "postgresql":
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                else:
                    conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
        except sa_exc.OperationalError as exc:
            failure = exc.orig
        if failure is not None:  # outside the except block: the message alone, no chained traceback
            pytest.fail(
                f"{db} is not reachable at {admin.url.render_as_string(hide_password=True)}: {failure}\n"
                "start it with scripts/start-databases, or leave it out, e.g. SEEDATA_TEST_DATABASES=sqlite",
                pytrace=False,
            )
        self._made.append((db, name))
        return admin.url.set(database=name).render_as_string(hide_password=False)

    def empty(self, url: str, *, keep_cameras: bool = False) -> None:
        """Delete every row of a migrated database (all but the cameras, with ``keep_cameras``);
        ids start at 1 again and the counters at 0."""
        engine = self._engines.get(url)
        if engine is None:
            engine = self._engines[url] = create_engine(driver_url(url))
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL lock_timeout = '10s'"))  # a storage left open fails, not hangs
                if keep_cameras:
                    conn.execute(text("TRUNCATE flows RESTART IDENTITY"))
                else:
                    conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY"))
            else:
                conn.execute(text("SET SESSION lock_wait_timeout = 10, innodb_lock_wait_timeout = 10"))
                conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
                for table in ("flows",) if keep_cameras else TABLES:
                    conn.execute(text(f"TRUNCATE {table}"))  # also starts AUTO_INCREMENT at 1 again
                conn.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
            if keep_cameras:
                conn.execute(text("UPDATE counters SET value = 0"))
            else:
                conn.execute(text("INSERT INTO counters (name, value) VALUES ('flows', 0)"))

    def drop_all(self) -> None:
        for engine in self._engines.values():
            engine.dispose()
        for db, name in self._made:
            with self._admin(db).connect() as conn:
                if db == "postgresql":
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                else:
                    conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
        for engine in [e for key, e in self._engines.items() if key.startswith("admin:")]:
            engine.dispose()

    def _admin(self, db: str) -> Engine:
        key = f"admin:{db}"
        if key not in self._engines:
            self._engines[key] = create_engine(driver_url(ADMIN_URLS[db]), isolation_level="AUTOCOMMIT")
        return self._engines[key]


@pytest.fixture(scope="session")
def server_databases() -> Iterator[ServerDatabases]:
    made = ServerDatabases()
    yield made
    made.drop_all()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite data directory: copying it is three times faster than migrating anew."""
    data = tmp_path_factory.mktemp("template") / "data"
    open_storage(Settings(data_dir=str(data))).close()
    return data


@pytest.fixture
def database_url(db: str, server_databases: ServerDatabases) -> str | None:
    """The test's database: ``None`` for SQLite (the data directory's file), else the run's
    database on that server, emptied for this test."""
    if db == "sqlite":
        return None
    url = server_databases.shared(db)
    server_databases.empty(url)
    return url


@pytest.fixture
def empty_database(server_databases: ServerDatabases) -> Emptier:
    """``empty_database(url, keep_cameras=False)``: delete the rows of a server database."""
    return server_databases.empty


@pytest.fixture
def data_dir(tmp_path: Path, db: str, sqlite_template: Path) -> Path:
    target = tmp_path / "data"
    if db == "sqlite":
        shutil.copytree(sqlite_template, target)
    else:
        target.mkdir(mode=0o700)
    return target


@pytest.fixture
def make_settings(data_dir: Path, database_url: str | None) -> SettingsMaker:
    """``make_settings(**fields)``: this test's settings (data directory and database) with ``fields``."""

    def make(**fields: Any) -> Settings:
        return Settings(data_dir=str(data_dir), database_url=database_url, **fields)

    return make


@pytest.fixture
def settings(make_settings: SettingsMaker) -> Settings:
    return make_settings()


@pytest.fixture
def empty_settings(tmp_path: Path, db: str, server_databases: ServerDatabases) -> Settings:
    """Settings of a database with no tables at all, not even Alembic's."""
    url = None if db == "sqlite" else server_databases.create(db)
    return Settings(data_dir=str(tmp_path / "empty"), database_url=url)


@pytest.fixture
def storage(settings: Settings) -> Iterator[SqlStorage]:
    opened = open_storage(settings)
    yield opened
    opened.close()


@pytest.fixture
def camera_id(storage: SqlStorage) -> int:
    return storage.add_camera(NewCamera(alias="Gate", source="rtsp://gate/stream")).id


@pytest.fixture
def make_flow() -> FlowMaker:
    """``make_flow(camera_id, seconds=0, **fields)``: a flow ``seconds`` after :data:`T0`."""

    def make(camera_id: int, seconds: int = 0, **fields: Any) -> NewFlow:
        values: dict[str, Any] = {
            "camera_id": camera_id,
            "plate": "abc123",
            "score": 0.9,
            "timestamp": T0 + timedelta(seconds=seconds),
            "trigger_mode": "auto",
            "lpr_version": "test 1.0",
        }
        values.update(fields)
        return NewFlow(**values)

    return make
