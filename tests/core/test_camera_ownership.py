"""Several server processes on one database: each camera is watched by exactly one of them, and
another takes a camera over when its process dies (within the lease's ttl) or stops (at once).

Real OS processes, each a :class:`~seedata_core.service.Seedata` with its camera workers; they print
the ids of the cameras they watch every 0.2 s. The cameras play the bundled sample video in manual mode
(no ALPR engine). Each scenario runs once per database of ``SEEDATA_TEST_DATABASES`` (see
:mod:`seedata_storage_sql.testing`): on SQLite the processes share one data directory (its database is a
file there); on PostgreSQL and MariaDB they are like separate machines, each with a data directory of
its own and the same ``database_url``, a fresh database made for the test and dropped after the module.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from seedata_storage_sql.testing import ServerDatabases, selected_databases

from seedata_core.errors import ConfigError
from seedata_core.models import NewCamera
from seedata_core.samplevideo import bundled_sample_video
from seedata_core.service import Seedata
from seedata_core.settings import Settings

SYNC = 0.2
CAMERAS = 3

CHILD = """
import signal, sys, time
from seedata_core.service import Seedata
from seedata_core.settings import Settings

# SIGTERM stops cleanly (the with block closes, releasing the leases); SIGKILL is a crash.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
settings = Settings(data_dir=sys.argv[1], database_url=sys.argv[2] or None,
                    camera_sync_interval=float(sys.argv[3]), camera_lease_ttl=float(sys.argv[4]))
with Seedata.open(settings) as seedata:
    workers = seedata.start_workers()
    while True:
        print("watching", *(camera.id for camera in workers.watched()), flush=True)
        time.sleep(0.2)
"""


class Server:
    """One child process, and the set of camera ids it said last that it watches (``None``: not yet)."""

    def __init__(self, data_dir: Path, database_url: str | None, ttl: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(data_dir), database_url or "", str(SYNC), str(ttl)],
            stdout=subprocess.PIPE,
            text=True,
        )
        self.watching: set[int] | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            words = line.split()
            if words and words[0] == "watching":
                self.watching = {int(word) for word in words[1:]}

    def end(self, how: signal.Signals) -> None:
        if self.process.poll() is None:
            self.process.send_signal(how)
        self.process.wait(timeout=20)
        self._reader.join(timeout=5)


def _wait_for(condition: Callable[[], bool], timeout: float, *, since: float | None = None) -> float:
    """Seconds from ``since`` (a ``time.monotonic()``; default now) until ``condition`` held; fails the
    test after ``timeout`` of them."""
    start = time.monotonic() if since is None else since
    while not condition():
        if time.monotonic() - start > timeout:
            pytest.fail(f"not within {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - start


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db" in metafunc.fixturenames:
        metafunc.parametrize("db", selected_databases())


@pytest.fixture
def database_url(db: str, server_databases: ServerDatabases) -> str | None:
    """``None`` on SQLite (the data directory's file), else a new database on that server, for this test."""
    return None if db == "sqlite" else server_databases.create(db)


@pytest.fixture
def data_dir_of(tmp_path: Path, db: str) -> Callable[[str], Path]:
    """``data_dir_of(machine)``: its data directory; on SQLite the one every machine shares."""
    return lambda machine: tmp_path / ("shared" if db == "sqlite" else machine)


@pytest.fixture
def cameras(data_dir_of: Callable[[str], Path], database_url: str | None) -> None:
    """Three enabled cameras in the test's database, playing the sample video, triggered manually."""
    with Seedata.open(Settings(data_dir=str(data_dir_of("setup")), database_url=database_url)) as seedata:
        for n in range(CAMERAS):
            seedata.storage.add_camera(
                NewCamera(alias=f"cam{n}", source=str(bundled_sample_video()), capture_mode="manual")
            )


@pytest.fixture
def start(
    cameras: None, data_dir_of: Callable[[str], Path], database_url: str | None
) -> Iterator[Callable[[float], Server]]:
    """``start(ttl)``: a new server process on the test's database; all are killed at the end."""
    started: list[Server] = []

    def start_one(ttl: float) -> Server:
        started.append(Server(data_dir_of(f"server{len(started)}"), database_url, ttl))
        return started[-1]

    yield start_one
    for server in started:  # every process gets its signal before the first wait can fail
        if server.process.poll() is None:
            server.process.kill()
    for server in started:
        server.end(signal.SIGKILL)


def _each_camera_watched_once(first: Server, second: Server) -> bool:
    a, b = first.watching, second.watching
    return a is not None and b is not None and not a & b and a | b == set(range(1, CAMERAS + 1))


def _settled(first: Server, second: Server) -> tuple[Server, Server]:
    """Once both run, for 2 s of samples every camera is watched by exactly one; (an owner, the other)."""
    _wait_for(lambda: _each_camera_watched_once(first, second), timeout=30)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        assert _each_camera_watched_once(first, second), (first.watching, second.watching)
        time.sleep(0.05)
    return (first, second) if first.watching else (second, first)


def test_a_dead_process_cameras_are_taken_over_within_the_ttl(start: Callable[[float], Server]) -> None:
    ttl = 2.0
    owner, other = _settled(start(ttl), start(ttl))
    killed = time.monotonic()
    owner.end(signal.SIGKILL)
    took = _wait_for(lambda: other.watching == set(range(1, CAMERAS + 1)), timeout=ttl + 2, since=killed)
    print(f"takeover after SIGKILL: {took:.2f} s (ttl {ttl} s)")


def test_a_stopped_process_releases_its_cameras_at_once(start: Callable[[float], Server]) -> None:
    ttl = 10.0  # taking over after expiry would take far longer than the bound below
    owner, other = _settled(start(ttl), start(ttl))
    stopped = time.monotonic()
    owner.end(signal.SIGTERM)
    assert owner.process.returncode == 0
    took = _wait_for(lambda: other.watching == set(range(1, CAMERAS + 1)), timeout=3, since=stopped)
    print(f"takeover after a clean stop: {took:.2f} s")


def test_the_lease_must_outlast_the_sync_interval() -> None:
    with pytest.raises(ConfigError, match="camera_lease_ttl"):
        Settings(camera_sync_interval=2, camera_lease_ttl=2)
    assert Settings(camera_sync_interval=0.2, camera_lease_ttl=2).camera_lease_ttl == 2
