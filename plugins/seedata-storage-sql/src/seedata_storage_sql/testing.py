"""Test databases on real servers, for the test suites of this plugin and of the HTTP API.

Test code only (it needs pytest); the storage itself never imports it.

Which databases a run tests comes from ``SEEDATA_TEST_DATABASES`` (comma-separated; default
``sqlite,postgresql,mariadb``). The servers are reached through admin URLs: PostgreSQL at
``SEEDATA_TEST_POSTGRESQL_URL`` (default ``postgresql://postgres@127.0.0.1:5432/postgres``), MariaDB at
``SEEDATA_TEST_MARIADB_URL`` (default ``mariadb://root@127.0.0.1:3306/``); ``scripts/start-databases``
starts local ones. :class:`ServerDatabases` makes databases of its own on them
(``seedata_test_<pid>_<random>_<n>``) and drops them at the end, so parallel and repeated runs never
meet. A server that does not answer fails the test that needs it, with the reason: never a skip.
"""

from __future__ import annotations

import os
import secrets

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy import exc as sa_exc

from seedata_core.settings import Settings

from . import migrate
from .engine import create_sql_engine
from .engine import database_url as driver_url
from .schema import metadata

ALL_DATABASES = ("sqlite", "postgresql", "mariadb")
ADMIN_URLS = {
    "postgresql": os.environ.get(
        "SEEDATA_TEST_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
    ),
    "mariadb": os.environ.get("SEEDATA_TEST_MARIADB_URL", "mariadb://root@127.0.0.1:3306/"),
}


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


class ServerDatabases:
    """Databases made for this run on the PostgreSQL and MariaDB servers, dropped by :meth:`drop_all`."""

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
        """Delete every row of a migrated database (only the flows, with ``keep_cameras``);
        ids start at 1 again and the counters at 0."""
        # The schema's own list, so a table added by a migration is emptied too.
        every = [table.name for table in metadata.sorted_tables]
        flow_tables = ["flows", "plate_grams", "plate_piece_days", "flow_hours", "camera_flow_hours"]
        tables = flow_tables if keep_cameras else every
        engine = self._engines.get(url)
        if engine is None:
            engine = self._engines[url] = create_engine(driver_url(url))
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL lock_timeout = '10s'"))  # a storage left open fails, not hangs
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY"))
            else:
                conn.execute(text("SET SESSION lock_wait_timeout = 10, innodb_lock_wait_timeout = 10"))
                conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
                for table in tables:
                    conn.execute(text(f"TRUNCATE {table}"))  # also starts AUTO_INCREMENT at 1 again
                conn.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
            if keep_cameras:
                conn.execute(text("UPDATE counters SET value = 0"))
            else:
                conn.execute(text("INSERT INTO counters (name, value) VALUES ('flows', 0)"))

    def drop_all(self) -> None:
        """Drop every database this run made."""
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
