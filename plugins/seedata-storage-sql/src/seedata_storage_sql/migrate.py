"""Schema migrations: Alembic revisions shipped in this package, applied whenever a storage opens.

Opening an existing data directory with a newer Seedata brings its database to the newest revision
(``upgrade head``); opening an up-to-date one changes nothing; ``seedata db upgrade`` does the same
without opening the rest. Migrations run without the statement deadline (a new index on a large
table takes what it takes), and one process at a time: SQLite's write lock, a PostgreSQL advisory
lock, a MariaDB named lock. Write a new revision against a
database at head: ``alembic.command.revision(alembic_config(connection), "message", autogenerate=True)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine

from seedata_core.errors import StorageUnavailable

from .engine import WRITE_OPTION

SCRIPT_LOCATION = "seedata_storage_sql:migrations"
LOCK_NAME = "seedata_migrate"
LOCK_KEY = 0x5EEDA7A  # PostgreSQL advisory locks take numbers; any fixed one, ours alone
LOCK_WAIT_S = 600


def alembic_config(connection: Connection | None = None, *, script_location: str = SCRIPT_LOCATION) -> Config:
    """An Alembic configuration for our revisions, migrating ``connection`` when one is given."""
    config = Config()
    config.set_main_option("script_location", script_location)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision(*, script_location: str = SCRIPT_LOCATION) -> str | None:
    """The newest revision the package ships."""
    return ScriptDirectory.from_config(alembic_config(script_location=script_location)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _knows(script: ScriptDirectory, revision: str) -> bool:
    try:
        return script.get_revision(revision) is not None
    except CommandError:  # Alembic's "Can't locate revision"
        return False


def upgrade(engine: Engine, *, revision: str = "head", script_location: str = SCRIPT_LOCATION) -> None:
    """Bring the database to ``revision``, in one write transaction.

    On SQLite the transaction takes the write lock first, so two processes opening one new data
    directory at once migrate it once: the second waits, then finds it at head. A database at a
    revision this package does not ship (written by a newer Seedata) is refused.
    """
    script = ScriptDirectory.from_config(alembic_config(script_location=script_location))
    current = current_revision(engine)
    if current is not None and not _knows(script, current):
        raise StorageUnavailable(
            f"the database is at schema revision {current!r}, which this Seedata does not know: "
            "a newer version wrote it"
        )
    if revision == "head" and current == script.get_current_head():
        return
    with engine.connect() as conn, _migrating(conn):
        conn.execution_options(**{WRITE_OPTION: True})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                # Both end with the transaction: a second process waits here, then finds the work done.
                conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")
            command.upgrade(alembic_config(conn, script_location=script_location), revision)


@contextmanager
def _migrating(conn: Connection) -> Iterator[None]:
    """On MariaDB: no statement deadline and the migration lock, both for this session, then restored.

    MariaDB commits each DDL statement at once, so neither can be scoped to the transaction.
    """
    if conn.dialect.name not in ("mysql", "mariadb"):
        yield
        return
    saved = float(conn.exec_driver_sql("SELECT @@SESSION.max_statement_time").scalar() or 0)
    conn.exec_driver_sql("SET SESSION max_statement_time = 0")
    try:
        got = conn.exec_driver_sql(f"SELECT GET_LOCK('{LOCK_NAME}', {LOCK_WAIT_S})").scalar()
        conn.commit()  # end the transaction these statements began: the migration begins its own
        if got != 1:
            raise StorageUnavailable(f"another process has been migrating the database for {LOCK_WAIT_S} s")
        try:
            yield
        finally:
            conn.exec_driver_sql(f"SELECT RELEASE_LOCK('{LOCK_NAME}')")
    finally:
        conn.exec_driver_sql(f"SET SESSION max_statement_time = {saved}")
        conn.commit()
