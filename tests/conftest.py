"""Fixtures shared by the core and server tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from seedata_storage_sql.testing import ServerDatabases

from seedata_core.settings import CONFIG_ENV, ENV_PREFIX, FIELDS


@pytest.fixture(scope="session")
def server_databases() -> Iterator[ServerDatabases]:
    """The PostgreSQL and MariaDB databases this run makes (see :mod:`seedata_storage_sql.testing`),
    dropped when it ends."""
    made = ServerDatabases()
    yield made
    made.drop_all()


@pytest.fixture(autouse=True)
def _no_test_run_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset, while a test runs, the ``SEEDATA_`` variables that configure the test run rather than
    Seedata (``SEEDATA_TEST_DATABASES``, ``SEEDATA_PLATES_DATASET``, ...): Seedata refuses a variable
    of its prefix that names no setting, so a command that a test runs would stop at them. They are
    read when the tests are collected, before any test runs."""
    for key in list(os.environ):
        if key.startswith(ENV_PREFIX) and key != CONFIG_ENV and key[len(ENV_PREFIX) :].lower() not in FIELDS:
            monkeypatch.delenv(key)
