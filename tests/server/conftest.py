"""Fixtures for the HTTP API's tests.

``settings`` (and so ``client``, ``seedata``...) is on SQLite, in the test's own data directory. A module
that sets ``DATABASES = ALL_DATABASES`` runs each of its tests once per database of
``SEEDATA_TEST_DATABASES`` instead: on PostgreSQL and MariaDB the test gets this run's database on that
server, emptied for it (see :mod:`seedata_storage_sql.testing`; a server that does not answer fails).
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from email.message import Message
from pathlib import Path

import pytest
from litestar.testing import TestClient
from seedata_storage_sql.testing import ServerDatabases, selected_databases

from seedata_core.auth import hash_password
from seedata_core.models import User
from seedata_core.plugins import Plugins, make_plugin_manager
from seedata_core.service import Seedata
from seedata_core.settings import Settings
from seedata_server import create_app

EMAIL = "operator@example.com"
PASSWORD = "correct horse battery staple"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    allowed = getattr(metafunc.module, "DATABASES", None)
    if allowed is not None and "db" in metafunc.fixturenames:
        # Session scope: each database's tests run together, on one database made per run.
        metafunc.parametrize(
            "db", [name for name in selected_databases() if name in allowed], scope="session"
        )


@pytest.fixture
def db() -> str:
    """The database kind the test runs on: SQLite unless its module sets ``DATABASES``."""
    return "sqlite"


@pytest.fixture
def database_url(db: str, server_databases: ServerDatabases) -> str | None:
    """``None`` on SQLite (the data directory's file), else this run's database on that server, emptied."""
    if db == "sqlite":
        return None
    url = server_databases.shared(db)
    server_databases.empty(url)
    return url


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(
        data_dir=str(tmp_path / "data"),
        database_url=database_url,
        timezone="America/Sao_Paulo",
        login_attempts_per_address=8,
        login_attempts_per_account=4,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:  # type: ignore[type-arg]
    app = create_app(settings, Plugins(make_plugin_manager()))
    with TestClient(app, base_url="http://testserver.local") as test_client:
        yield test_client


@pytest.fixture
def seedata(client: TestClient) -> Seedata:  # type: ignore[type-arg]
    found: Seedata = client.app.state.seedata
    return found


@pytest.fixture
def user(seedata: Seedata) -> User:
    return seedata.storage.add_user(EMAIL, hash_password(PASSWORD))


@pytest.fixture
def token(client: TestClient, user: User) -> str:  # type: ignore[type-arg]
    response = client.post("/authenticate", json={"email": EMAIL, "password": PASSWORD})
    assert response.status_code == 200, response.text
    found: str = response.json()["data"]["token"]
    return found


@pytest.fixture
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


HttpCall = Callable[..., tuple[int, Message, bytes]]
"""``call(url, body=None, token=None)``: status, headers and body; POST with a JSON body, else GET."""


def _call(
    url: str, body: dict[str, object] | None = None, token: str | None = None
) -> tuple[int, Message, bytes]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, headers=headers, method="GET" if body is None else "POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


@pytest.fixture
def call() -> HttpCall:
    """A real HTTP client for servers run as processes (urllib: no test transport in between)."""
    return _call


@pytest.fixture
def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
