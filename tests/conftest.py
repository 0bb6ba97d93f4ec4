"""Fixtures shared by the core and server tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from seedata_storage_sql.testing import ServerDatabases


@pytest.fixture(scope="session")
def server_databases() -> Iterator[ServerDatabases]:
    """The PostgreSQL and MariaDB databases this run makes (see :mod:`seedata_storage_sql.testing`),
    dropped when it ends."""
    made = ServerDatabases()
    yield made
    made.drop_all()
