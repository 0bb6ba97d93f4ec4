"""The plugin that registers the SQL storage (entry point ``storage_sql`` in the ``seedata`` group)."""

from __future__ import annotations

from collections.abc import Callable

from seedata_core import hookimpl
from seedata_core.storage import StorageSpec

from . import open_storage

SCHEMES = ("sqlite", "postgresql", "postgres", "mysql", "mariadb")


@hookimpl
def seedata_register_storages(register: Callable[[StorageSpec], None]) -> None:
    """Register the ``sql`` storage for SQLite, PostgreSQL and MySQL/MariaDB URLs."""
    register(
        StorageSpec(
            name="sql",
            schemes=SCHEMES,
            open=open_storage,
            description="SQLAlchemy: SQLite by default, PostgreSQL and MariaDB; pictures as files",
        )
    )
