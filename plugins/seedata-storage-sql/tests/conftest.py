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

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from seedata_storage_sql import SqlStorage, open_storage
from seedata_storage_sql.testing import ALL_DATABASES, ServerDatabases, selected_databases

from seedata_core.models import NewCamera, NewFlow
from seedata_core.settings import Settings

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
FlowMaker = Callable[..., NewFlow]
SettingsMaker = Callable[..., Settings]
Emptier = Callable[..., None]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db" in metafunc.fixturenames:
        allowed = getattr(metafunc.module, "DATABASES", ALL_DATABASES)
        names = [name for name in selected_databases() if name in allowed]
        # Session scope: each database's tests run together, on databases made once per run.
        metafunc.parametrize("db", names, scope="session")


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
